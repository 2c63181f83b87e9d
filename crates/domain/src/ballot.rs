//! The life of a vote around the arithmetic of [`crate::vote`]: its states,
//! the channels a ballot may come through, the window, and the checks on a
//! ballot's evidence file (a scanned paper ballot or a signed proxy).

use crate::place::str_enum;

str_enum!(
    /// Draft (being prepared) → open (electorate frozen, ballots accepted
    /// inside the window) → closed (result counted and published).
    VoteStatus { Draft = "draft", Open = "open", Closed = "closed" }
);

str_enum!(
    /// How a ballot reached the vote: `online`, cast by the owner through
    /// their own account (identity-checked); `paper`, recorded by a worker
    /// with a scan or photo; `proxy`, cast by a proxy holder under a signed
    /// written authorisation.
    Channel { Online = "online", Paper = "paper", Proxy = "proxy" }
);

/// Default number of owners one proxy holder may represent in one vote, when
/// no community setting `vote.proxy_limit` says otherwise.
pub const DEFAULT_PROXY_LIMIT: i64 = 3;

/// Largest evidence file accepted (5 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 5 * 1024 * 1024;

/// The evidence types accepted, with their file signatures.
pub const EVIDENCE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// Checks an evidence file: a known type whose content really starts like
/// that type, not empty, not larger than [`MAX_EVIDENCE_BYTES`].
/// The media type of a Content-Type header, lower case, without parameters
/// (`Image/PNG; q=1` → `image/png`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub fn check_evidence(content_type: &str, bytes: &[u8]) -> Result<(), String> {
    let ct = media_type(content_type);
    if !EVIDENCE_TYPES.contains(&ct.as_str()) {
        return Err(format!(
            "type '{ct}' is not accepted (expected one of {})",
            EVIDENCE_TYPES.join(", ")
        ));
    }
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(format!(
            "the file has {} bytes; at most {} are accepted",
            bytes.len(),
            MAX_EVIDENCE_BYTES
        ));
    }
    let ok = match ct.as_str() {
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        "image/webp" => bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        _ => false,
    };
    if !ok {
        return Err(format!("the content is not a {ct} file"));
    }
    Ok(())
}

/// Whether a ballot may be cast at `now` (ms): the window is
/// `[opens_at, closes_at)`.
pub fn in_window(opens_at: i64, closes_at: i64, now: i64) -> bool {
    opens_at <= now && now < closes_at
}

/// Parses a channel list such as `["online", "paper"]`: known, at least one,
/// no repeats.
pub fn parse_channels(list: &[String]) -> Result<Vec<Channel>, String> {
    if list.is_empty() {
        return Err(format!(
            "at least one channel is needed ({})",
            Channel::choices()
        ));
    }
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let ch = Channel::parse(c).ok_or_else(|| {
            format!(
                "[{i}]: unknown channel '{c}' (expected {})",
                Channel::choices()
            )
        })?;
        if out.contains(&ch) {
            return Err(format!("[{i}]: channel '{c}' is listed twice"));
        }
        out.push(ch);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(media_type("Image/PNG; q=1"), "image/png");
        assert_eq!(media_type(" application/pdf "), "application/pdf");
        assert_eq!(media_type(""), "");
    }

    #[test]
    fn evidence_types_and_signatures() {
        assert!(check_evidence("image/png", b"\x89PNG\r\n\x1a\nrest").is_ok());
        assert!(check_evidence("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 1]).is_ok());
        assert!(check_evidence("application/pdf; charset=binary", b"%PDF-1.7").is_ok());
        assert!(check_evidence("image/webp", b"RIFF\0\0\0\0WEBPVP8 ").is_ok());
        assert!(check_evidence("image/png", b"%PDF-1.7")
            .unwrap_err()
            .contains("not a image/png"));
        assert!(check_evidence("text/html", b"<html>")
            .unwrap_err()
            .contains("not accepted"));
        assert!(check_evidence("image/png", b"")
            .unwrap_err()
            .contains("empty"));
        let big = vec![0xFFu8; MAX_EVIDENCE_BYTES + 1];
        assert!(check_evidence("image/jpeg", &big)
            .unwrap_err()
            .contains("at most"));
        let max = {
            let mut v = vec![0u8; MAX_EVIDENCE_BYTES];
            v[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
            v
        };
        assert!(check_evidence("image/jpeg", &max).is_ok());
    }

    #[test]
    fn window_is_half_open() {
        assert!(!in_window(10, 20, 9));
        assert!(in_window(10, 20, 10));
        assert!(in_window(10, 20, 19));
        assert!(!in_window(10, 20, 20));
    }

    #[test]
    fn channels() {
        assert_eq!(
            parse_channels(&["online".into(), "paper".into()]).unwrap(),
            vec![Channel::Online, Channel::Paper]
        );
        assert!(parse_channels(&[]).is_err());
        assert!(parse_channels(&["fax".into()])
            .unwrap_err()
            .contains("unknown channel 'fax'"));
        assert!(parse_channels(&["paper".into(), "paper".into()])
            .unwrap_err()
            .contains("twice"));
    }
}
