//! Whitespace searches on the bytes of a value, as `char::is_whitespace` decides.
//!
//! Every value and every word of a command is asked whether it holds whitespace, and where a
//! word ends; `str`'s searches with a `char` predicate decode each character to answer. Almost
//! every value is ASCII, where whitespace is one of six bytes: these look at bytes, and hand
//! the rest of the text to the `char` search at the first byte that is not ASCII.

/// ASCII's whitespace as `char::is_whitespace` has it: space, and tab to carriage return
/// (vertical tab included, which `u8::is_ascii_whitespace` leaves out).
fn ascii_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// The first whitespace character of `s`: `s.find(char::is_whitespace)`.
pub(super) fn find_whitespace(s: &str) -> Option<usize> {
    for (i, b) in s.bytes().enumerate() {
        if ascii_whitespace(b) {
            return Some(i);
        }
        if !b.is_ascii() {
            // Every byte before is ASCII: `i` starts a character.
            return s.get(i..)?.find(char::is_whitespace).map(|j| i + j);
        }
    }
    None
}

/// The first character of `s` that is not whitespace: `s.find(|c| !c.is_whitespace())`.
pub(super) fn find_non_whitespace(s: &str) -> Option<usize> {
    for (i, b) in s.bytes().enumerate() {
        if !b.is_ascii() {
            return s
                .get(i..)?
                .find(|c: char| !c.is_whitespace())
                .map(|j| i + j);
        }
        if !ascii_whitespace(b) {
            return Some(i);
        }
    }
    None
}

/// Whether `s` holds whitespace: `s.contains(char::is_whitespace)`.
pub(super) fn has_whitespace(s: &str) -> bool {
    find_whitespace(s).is_some()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every whitespace character there is, and neighbours that are not.
    const CHARS: &[char] = &[
        ' ', '\t', '\n', '\u{0b}', '\u{0c}', '\r', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
        '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}', 'a', '-', '\0',
        '\u{1f}', '\u{7f}', '\u{80}', '\u{200b}', '\u{feff}', 'é', '😀',
    ];

    #[test]
    fn every_character_is_judged_as_char_judges_it() {
        for &c in CHARS {
            for s in [
                c.to_string(),
                format!("ab{c}"),
                format!("{c}ab"),
                format!("é{c}x"),
            ] {
                assert_eq!(find_whitespace(&s), s.find(char::is_whitespace), "{s:?}");
                assert_eq!(
                    find_non_whitespace(&s),
                    s.find(|c: char| !c.is_whitespace()),
                    "{s:?}"
                );
                assert_eq!(has_whitespace(&s), s.contains(char::is_whitespace), "{s:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_is_searched_as_str_searches(
            s in prop::collection::vec(prop::sample::select(CHARS), 0..12)
                .prop_map(|cs| cs.into_iter().collect::<String>()),
        ) {
            prop_assert_eq!(find_whitespace(&s), s.find(char::is_whitespace));
            prop_assert_eq!(find_non_whitespace(&s), s.find(|c: char| !c.is_whitespace()));
        }
    }
}
