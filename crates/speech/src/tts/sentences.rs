//! Splitting text into the pieces synthesised one at a time, so a call hears the first sentence
//! while the next ones are being made.

/// Pieces longer than this many bytes are cut at a comma or a space: a sentence without full
/// stops must not hold back the start of the audio.
const MAX_PIECE_BYTES: usize = 240;

/// Words that end in a full stop without ending a sentence.
const ABBREVIATIONS: [&str; 14] = [
    "mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "jr", "sr", "prof", "approx",
];

/// Splits `text` into sentences (after `.`, `!`, `?`, `;`, `:` followed by a space, and at line
/// breaks), cutting long ones at a comma or a space, trimmed, without empty pieces. A full stop
/// after a common abbreviation ("Dr.", "e.g.") or a single letter ("J. Smith"), or before a
/// lower-case word, does not end a sentence.
#[must_use]
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        let end = index + c.len_utf8();
        let next = chars.peek().map(|&(_, next)| next);
        let boundary = match c {
            '\n' => true,
            '!' | '?' | ';' | ':' => next.is_none_or(char::is_whitespace),
            '.' => next.is_none_or(char::is_whitespace) && ends_sentence(text, start, index, end),
            _ => false,
        };
        if boundary {
            push_piece(&mut pieces, &text[start..end]);
            start = end;
        }
    }
    push_piece(&mut pieces, &text[start..]);
    pieces
}

/// Whether the full stop at `dot` ends a sentence.
fn ends_sentence(text: &str, start: usize, dot: usize, after: usize) -> bool {
    let word = text[start..dot]
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default()
        .trim_start_matches(['(', '"', '\''])
        .to_lowercase();
    let single_letter = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
    if single_letter || ABBREVIATIONS.contains(&word.as_str()) {
        return false;
    }
    // "...3 p.m. tomorrow": a lower-case word goes on the same sentence.
    let following = text[after..].trim_start().chars().next();
    !following.is_some_and(char::is_lowercase)
}

/// Adds `piece` trimmed, cut into parts of at most [`MAX_PIECE_BYTES`].
fn push_piece(pieces: &mut Vec<String>, piece: &str) {
    let mut rest = piece.trim();
    while rest.len() > MAX_PIECE_BYTES {
        let mut limit = MAX_PIECE_BYTES;
        while !rest.is_char_boundary(limit) {
            limit -= 1;
        }
        let head = &rest[..limit];
        let cut = head
            .rfind(", ")
            .map(|comma| comma + 1)
            .or_else(|| head.rfind(char::is_whitespace))
            .filter(|&cut| cut > 0)
            .unwrap_or(limit);
        pieces.push(rest[..cut].trim().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    #[test_case("Hello.", &["Hello."]; "one sentence")]
    #[test_case("Welcome! Press 1 for sales. Press 2 for support?", &["Welcome!", "Press 1 for sales.", "Press 2 for support?"]; "three sentences")]
    #[test_case("Call Dr. Smith at 3.30 p.m. today.", &["Call Dr. Smith at 3.30 p.m. today."]; "abbreviations and decimals")]
    #[test_case("J. R. Smith speaking. Hi", &["J. R. Smith speaking.", "Hi"]; "initials")]
    #[test_case("Line one\nLine two", &["Line one", "Line two"]; "line breaks")]
    #[test_case("Options: sales; support.", &["Options:", "sales;", "support."]; "colons and semicolons")]
    #[test_case("  \n ", &[]; "only whitespace")]
    #[test_case("Ünïcödé… ends. Next", &["Ünïcödé… ends.", "Next"]; "unicode")]
    fn splits(text: &str, expected: &[&str]) {
        assert_eq!(split_sentences(text), expected);
    }

    #[test]
    fn long_pieces_are_cut_at_commas_then_spaces() {
        let clause = "this clause goes on and on without a full stop";
        let text = [clause; 12].join(", ");
        let pieces = split_sentences(&text);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|piece| piece.len() <= MAX_PIECE_BYTES));
        assert!(pieces[0].ends_with(','), "{:?}", pieces[0]);
        assert_eq!(pieces.join(" "), text, "nothing lost");
        let word = "é".repeat(300);
        let cut = split_sentences(&word);
        assert_eq!(cut.concat(), word);
    }
}
