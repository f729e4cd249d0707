//! What the checker knows about the user, so that a password built from it is refused.

use soc2_core::truncate_to_char_boundary;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Bytes of each context field that are looked at, so that an oversized display name cannot
/// make a check expensive.
const MAX_FIELD_BYTES: usize = 256;

/// Identity tokens shorter than this (in code points) are too likely to occur by chance to
/// refuse a password for containing them ("al", "bob"); zxcvbn still sees them.
const MIN_TOKEN_CHARS: usize = 4;

/// zxcvbn inputs shorter than this are dropped: a one- or two-letter "word" matches
/// everywhere and says nothing about the user.
const MIN_INPUT_CHARS: usize = 3;

/// The user a password is being chosen for, and the application they are using.
///
/// - *Identity tokens*: the username, the email address and its local part (each whole), the
///   words of those and of the display name and of the application's name, and the
///   application's name with its spaces and punctuation removed (`acmepayroll`). A password
///   containing one of at least four code points (ignoring case, after NFKC) is refused with
///   [`ViolationCode::ContainsUserContext`](super::ViolationCode): SP 800-63B-4 §3.1.1.2 names
///   the name of the service and the username among the words a blocklist should hold.
/// - All of those plus the email domain's labels are also zxcvbn's user inputs, so shorter
///   derivatives (reversed, l33t) score low.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct UserContext<'a> {
    username: Option<&'a str>,
    email: Option<&'a str>,
    display_name: Option<&'a str>,
    app_name: Option<&'a str>,
}

impl<'a> UserContext<'a> {
    /// Sets the login name.
    pub fn with_username(mut self, username: &'a str) -> Self {
        self.username = Some(username);
        self
    }

    /// Sets the email address.
    pub fn with_email(mut self, email: &'a str) -> Self {
        self.email = Some(email);
        self
    }

    /// Sets the display name ("Alice Liddell").
    pub fn with_display_name(mut self, display_name: &'a str) -> Self {
        self.display_name = Some(display_name);
        self
    }

    /// Sets the application's name ("Acme Payroll").
    pub fn with_app_name(mut self, app_name: &'a str) -> Self {
        self.app_name = Some(app_name);
        self
    }

    /// The identity tokens and the zxcvbn inputs, folded.
    pub(crate) fn tokens(&self) -> ContextTokens {
        let mut identity = Vec::new();
        let mut inputs = Vec::new();
        let (local, domain) = match self.email.map(|e| e.rsplit_once('@')) {
            Some(Some((local, domain))) => (Some(local), Some(domain)),
            _ => (self.email, None),
        };
        for field in [self.username, self.email, local].into_iter().flatten() {
            push_token(&mut identity, fold_field(field));
        }
        for field in [self.username, local, self.display_name, self.app_name]
            .into_iter()
            .flatten()
        {
            for word in words(&fold_field(field)) {
                push_token(&mut identity, word.to_owned());
            }
        }
        if let Some(app_name) = self.app_name {
            push_token(&mut identity, words(&fold_field(app_name)).collect());
        }
        inputs.extend(identity.iter().cloned());
        if let Some(domain) = domain {
            let folded = fold_field(domain);
            for word in words(&folded) {
                push_token(&mut inputs, word.to_owned());
            }
            push_token(&mut inputs, folded);
        }
        identity.retain(|token| token.chars().count() >= MIN_TOKEN_CHARS);
        inputs.retain(|token| token.chars().count() >= MIN_INPUT_CHARS);
        ContextTokens { identity, inputs }
    }
}

/// A [`UserContext`] prepared for checking: every token NFKC-normalised and case-folded.
#[derive(Debug)]
pub(crate) struct ContextTokens {
    /// Tokens a password must not contain.
    pub(crate) identity: Vec<String>,
    /// Words zxcvbn treats as a dictionary of the most likely guesses.
    pub(crate) inputs: Vec<String>,
}

impl ContextTokens {
    /// True when the NFKC-normalised `password` contains an identity token, ignoring case.
    pub(crate) fn found_in(&self, password: &str) -> bool {
        if self.identity.is_empty() {
            return false;
        }
        let folded = Zeroizing::new(caseless::default_case_fold_str(password));
        let folded: Zeroizing<String> = Zeroizing::new(folded.nfkc().collect());
        self.identity
            .iter()
            .any(|token| folded.contains(token.as_str()))
    }
}

/// `NFKC(casefold(NFKC(text)))`: the comparison form, the same as usernames get.
fn fold(text: &str) -> String {
    let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
    folded.nfkc().collect()
}

/// The folded first [`MAX_FIELD_BYTES`] of a context field, trimmed.
fn fold_field(field: &str) -> String {
    fold(truncate_to_char_boundary(field.trim(), MAX_FIELD_BYTES))
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
}

fn push_token(tokens: &mut Vec<String>, token: String) {
    if !token.is_empty() && !tokens.contains(&token) {
        tokens.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_names_are_split_and_folded() {
        let tokens = UserContext::default()
            .with_username("J_Smith")
            .with_email("John.Smith@Mail.Example.com")
            .with_display_name("Jöhn  ＳＭＩＴＨ")
            .with_app_name("Acme Payroll")
            .tokens();
        assert_eq!(
            tokens.identity,
            [
                "j_smith",
                "john.smith@mail.example.com",
                "john.smith",
                "smith",
                "john",
                "jöhn",
                "acme",
                "payroll",
                "acmepayroll"
            ]
        );
        assert_eq!(
            tokens.inputs,
            [
                "j_smith",
                "john.smith@mail.example.com",
                "john.smith",
                "smith",
                "john",
                "jöhn",
                "acme",
                "payroll",
                "acmepayroll",
                "mail",
                "example",
                "com",
                "mail.example.com"
            ]
        );
    }

    #[test]
    fn identity_tokens_are_found_ignoring_case() {
        let tokens = UserContext::default()
            .with_username("alice")
            .with_display_name("Bo Li")
            .tokens();
        assert!(tokens.found_in("xxALICExx"));
        assert!(tokens.found_in("ＡＬＩＣＥ"));
        assert!(
            !tokens.found_in("xxBoLixx"),
            "tokens under 4 characters are ignored"
        );
        assert!(!UserContext::default().tokens().found_in("alice"));
    }

    #[test]
    fn an_address_without_at_is_a_local_part() {
        let tokens = UserContext::default().with_email("operator").tokens();
        assert_eq!(tokens.identity, ["operator"]);
        assert!(UserContext::default().tokens().inputs.is_empty());
    }
}
