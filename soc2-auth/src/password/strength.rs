//! zxcvbn strength estimation with a bounded cost.
//!
//! zxcvbn's matchers look every substring of the password up in its dictionaries: once as
//! typed, once reversed, and once more for every l33t substitution table it enumerates. The
//! number of tables grows multiplicatively with the distinct l33t characters present (`4@8({[<`
//! …), so 100 crafted characters take seconds (shssoichiro/zxcvbn-rs#69, dropbox/zxcvbn#316).
//! zxcvbn is therefore shown the longest prefix whose worst-case work fits [`WORK_BUDGET`].
//! Scoring a prefix can only under-estimate strength, so the bound errs towards refusing. In
//! practice only strings of many distinct symbols are cut short, and their prefixes still
//! score high (the 100-character acsploit string is scored on 16 characters: score 4).

/// zxcvbn never looks past its first 100 characters anyway.
const MAX_SCORED_CHARS: usize = 100;

/// The work zxcvbn may do, in dictionary passes over one substring: `n²` substrings times
/// (2 + l33t tables). It admits 100 characters with up to 4 substitution tables.
const WORK_BUDGET: usize = MAX_SCORED_CHARS * MAX_SCORED_CHARS * 6;

/// zxcvbn 3.1's l33t table (`src/matching/mod.rs`): the letters and the characters that
/// stand for them.
const L33T_TABLE: [(char, &[char]); 12] = [
    ('a', &['4', '@']),
    ('b', &['8']),
    ('c', &['(', '{', '[', '<']),
    ('e', &['3']),
    ('g', &['6', '9']),
    ('i', &['1', '!', '|']),
    ('l', &['1', '|', '7']),
    ('o', &['0']),
    ('s', &['$', '5']),
    ('t', &['+', '7']),
    ('x', &['%']),
    ('z', &['2']),
];

/// Characters that stand for two letters: each can double the tables enumerated so far.
const SHARED: [char; 3] = ['1', '|', '7'];

/// The zxcvbn score (0 to 4) of `password`, with `inputs` as the user's own dictionary.
pub(crate) fn score(password: &str, inputs: &[String]) -> u8 {
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    u8::from(zxcvbn::zxcvbn(scored_prefix(password), &inputs).score())
}

/// The longest prefix of `password` whose worst-case zxcvbn work fits [`WORK_BUDGET`].
fn scored_prefix(password: &str) -> &str {
    let mut weights = [0usize; L33T_TABLE.len()];
    let mut seen: Vec<char> = Vec::new();
    for (n, (at, c)) in password.char_indices().enumerate() {
        if n == MAX_SCORED_CHARS {
            return &password[..at];
        }
        if !seen.contains(&c) {
            seen.push(c);
            let weight = if SHARED.contains(&c) { 2 } else { 1 };
            for (slot, (_, subs)) in weights.iter_mut().zip(L33T_TABLE) {
                if subs.contains(&c) {
                    *slot += weight;
                }
            }
        }
        // An upper bound on the tables zxcvbn enumerates: per letter, one per substitute
        // present, two for a substitute another letter shares.
        let tables: usize = weights.iter().filter(|w| **w > 0).product();
        let chars = n + 1;
        if chars * chars * (tables + 2) > WORK_BUDGET {
            return &password[..at];
        }
    }
    password
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_passwords_are_scored_whole() {
        for password in [
            "correct horse battery staple",
            "Tr0ub4dor&3",
            &"a".repeat(100),
            "the quick brown fox jumps over the lazy dog, then naps in the sun all afternoon long.",
        ] {
            assert_eq!(scored_prefix(password), password);
        }
        assert_eq!(scored_prefix(&"b".repeat(150)), "b".repeat(100));
        assert_eq!(scored_prefix(&"é".repeat(101)), "é".repeat(100));
    }

    #[test]
    fn many_l33t_characters_shorten_the_prefix() {
        let crafted = "4@8({[</369&#!1/|0$5+7%2/".repeat(4);
        let prefix = scored_prefix(&crafted);
        assert_eq!(prefix, "4@8({[</369&#!1/");
        assert_eq!(score(prefix, &[]), 4);
    }
}
