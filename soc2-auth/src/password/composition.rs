//! Character-class (composition) rules, off unless an auditor asks for them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind of character a composition rule can require.
///
/// Classes are Unicode-aware: `é` is lower case, `Ж` upper case, `٣` numeric. Letters of
/// scripts without case (CJK, Arabic, …) count as lower case, so a `lowercase` or
/// `min_classes` rule never locks out users of those scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CharClass {
    /// A letter that is not upper case.
    Lowercase,
    /// An upper-case letter.
    Uppercase,
    /// Any letter (PCI DSS v4.0 8.3.6 "alphabetic").
    Alphabetic,
    /// Any digit or other numeric character (PCI DSS v4.0 8.3.6 "numeric").
    Numeric,
    /// Anything else: punctuation, symbols, spaces, emoji.
    Symbol,
}

impl CharClass {
    /// True when `c` belongs to this class.
    #[must_use]
    pub fn matches(self, c: char) -> bool {
        match self {
            Self::Lowercase => c.is_alphabetic() && !c.is_uppercase(),
            Self::Uppercase => c.is_uppercase(),
            Self::Alphabetic => c.is_alphabetic(),
            Self::Numeric => c.is_numeric(),
            Self::Symbol => !c.is_alphanumeric(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Lowercase => "a lower-case letter",
            Self::Uppercase => "an upper-case letter",
            Self::Alphabetic => "a letter",
            Self::Numeric => "a digit",
            Self::Symbol => "a symbol or space",
        }
    }
}

impl fmt::Display for CharClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The classes that `min_classes` counts.
pub(crate) const COUNTED_CLASSES: [CharClass; 4] = [
    CharClass::Lowercase,
    CharClass::Uppercase,
    CharClass::Numeric,
    CharClass::Symbol,
];

/// What `password` lacks: the required classes it has no character of, and whether it spans
/// fewer than `min_classes` of [`COUNTED_CLASSES`]. `None` when it satisfies both.
pub(crate) fn missing(password: &str, required: &[CharClass], min_classes: u8) -> Option<String> {
    let has = |class: CharClass| password.chars().any(|c| class.matches(c));
    let absent: Vec<&str> = required
        .iter()
        .filter(|class| !has(**class))
        .map(|class| class.describe())
        .collect();
    let spanned = COUNTED_CLASSES
        .into_iter()
        .filter(|class| has(*class))
        .count();
    let too_few = spanned < usize::from(min_classes);
    if absent.is_empty() && !too_few {
        return None;
    }
    let mut message = String::from("The password must contain");
    if !absent.is_empty() {
        message.push_str(" at least ");
        message.push_str(&absent.join(", "));
    }
    if too_few {
        if !absent.is_empty() {
            message.push_str(", and");
        }
        message.push_str(&format!(
            " characters of at least {min_classes} kinds (lower case, upper case, digits, symbols)"
        ));
    }
    message.push('.');
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_unicode_aware() {
        assert!(CharClass::Lowercase.matches('é'));
        assert!(CharClass::Lowercase.matches('字'));
        assert!(CharClass::Uppercase.matches('Ж'));
        assert!(CharClass::Numeric.matches('٣'));
        assert!(CharClass::Symbol.matches(' '));
        assert!(CharClass::Symbol.matches('🙂'));
        assert!(!CharClass::Symbol.matches('a'));
        for c in ['a', 'Z', '7', '!', '字', ' '] {
            let classes = COUNTED_CLASSES.iter().filter(|k| k.matches(c)).count();
            assert_eq!(classes, 1, "{c:?}");
        }
    }

    #[test]
    fn reports_what_is_missing() {
        let pci = [CharClass::Alphabetic, CharClass::Numeric];
        assert_eq!(missing("correct horse 9", &pci, 0), None);
        assert_eq!(
            missing("correct horse", &pci, 0).as_deref(),
            Some("The password must contain at least a digit.")
        );
        assert_eq!(
            missing("12345678", &pci, 3).as_deref(),
            Some(
                "The password must contain at least a letter, and characters of at least 3 kinds \
                 (lower case, upper case, digits, symbols)."
            )
        );
        assert_eq!(missing("aB3!", &[], 4), None);
        assert_eq!(
            missing("aB3", &[], 4).as_deref(),
            Some(
                "The password must contain characters of at least 4 kinds (lower case, upper \
                 case, digits, symbols)."
            )
        );
    }
}
