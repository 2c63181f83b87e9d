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

/// How often an owner may re-cast a ballot in one vote: at most
/// [`RECAST_PER_WINDOW`] re-casts within any [`RECAST_WINDOW_MS`], and at most
/// [`MAX_BALLOTS_PER_OWNER`] ballots in all (the first one included). A
/// change of mind is a right until the vote closes; a flood of re-casts is
/// not — every superseded ballot stays on the record for ever.
pub const RECAST_PER_WINDOW: usize = 3;
/// The sliding window of [`RECAST_PER_WINDOW`], in ms.
pub const RECAST_WINDOW_MS: i64 = 60_000;
/// The most ballots one owner may cast in one vote.
pub const MAX_BALLOTS_PER_OWNER: i64 = 20;

/// Why a new ballot of an owner is refused by [`check_recast`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecastRefusal {
    /// Too many re-casts in the window: the next one is possible in
    /// `retry_after_ms`.
    TooSoon { retry_after_ms: i64 },
    /// The owner has cast [`MAX_BALLOTS_PER_OWNER`] ballots already; the
    /// current one stands.
    TooMany { cast: i64 },
}

impl RecastRefusal {
    /// Seconds to wait, rounded up, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            RecastRefusal::TooSoon { retry_after_ms } => {
                Some(((*retry_after_ms).max(1) as u64).div_ceil(1000))
            }
            RecastRefusal::TooMany { .. } => None,
        }
    }
}

impl std::fmt::Display for RecastRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecastRefusal::TooSoon { .. } => write!(
                f,
                "a ballot may be re-cast at most {RECAST_PER_WINDOW} times in {} seconds; try again in {} s",
                RECAST_WINDOW_MS / 1000,
                self.retry_after_secs().unwrap_or(1)
            ),
            RecastRefusal::TooMany { cast } => write!(
                f,
                "this owner has cast {cast} ballots in this vote, the most allowed is {MAX_BALLOTS_PER_OWNER}; the current ballot stands"
            ),
        }
    }
}

/// Whether an owner may cast one more ballot at `now` (ms), given how many
/// ballots they have cast in this vote (`cast`) and the times of their
/// re-casts (ballots after the first) that fall in the window before `now`
/// (any order; older ones are ignored). A first ballot is always allowed.
pub fn check_recast(cast: i64, recasts_at: &[i64], now: i64) -> Result<(), RecastRefusal> {
    if cast == 0 {
        return Ok(());
    }
    if cast >= MAX_BALLOTS_PER_OWNER {
        return Err(RecastRefusal::TooMany { cast });
    }
    let since = now - RECAST_WINDOW_MS;
    let mut recent: Vec<i64> = recasts_at.iter().copied().filter(|t| *t > since).collect();
    if recent.len() >= RECAST_PER_WINDOW {
        // The window frees a slot when the oldest of the last
        // RECAST_PER_WINDOW re-casts leaves it.
        recent.sort_unstable();
        let oldest = recent[recent.len() - RECAST_PER_WINDOW];
        return Err(RecastRefusal::TooSoon {
            retry_after_ms: oldest + RECAST_WINDOW_MS - now,
        });
    }
    Ok(())
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
    #[test]
    fn recasts_are_limited_per_minute_and_in_all() {
        // A first ballot, whatever else.
        assert_eq!(check_recast(0, &[], 0), Ok(()));
        // Three re-casts within a minute, then the fourth waits.
        assert_eq!(check_recast(1, &[], 1_000), Ok(()));
        assert_eq!(check_recast(3, &[1_000, 2_000], 3_000), Ok(()));
        assert_eq!(
            check_recast(4, &[1_000, 2_000, 3_000], 4_000),
            Err(RecastRefusal::TooSoon {
                retry_after_ms: 57_000
            })
        );
        let e = check_recast(4, &[3_000, 1_000, 2_000], 4_000).unwrap_err();
        assert_eq!(e.retry_after_secs(), Some(57));
        assert!(
            e.to_string().contains("at most 3 times in 60 seconds"),
            "{e}"
        );
        // The window slides: at 61 s the re-cast at 1 s has left it
        // (exactly 60 s old is out: the window is (now − 60 s, now]).
        assert_eq!(check_recast(4, &[1_000, 2_000, 3_000], 61_000), Ok(()));
        assert!(check_recast(4, &[1_000, 2_000, 3_000], 60_999).is_err());
        // Old re-casts do not count.
        assert_eq!(check_recast(10, &[0, 1, 2, 3, 4, 5], 100_000), Ok(()));
        // Retry-After is never 0.
        assert_eq!(
            RecastRefusal::TooSoon { retry_after_ms: 1 }.retry_after_secs(),
            Some(1)
        );
        assert_eq!(
            RecastRefusal::TooSoon {
                retry_after_ms: 1_001
            }
            .retry_after_secs(),
            Some(2)
        );
        // In all: 20 ballots, then none, however slowly.
        assert_eq!(
            check_recast(MAX_BALLOTS_PER_OWNER - 1, &[], 1 << 40),
            Ok(())
        );
        let e = check_recast(MAX_BALLOTS_PER_OWNER, &[], 1 << 40).unwrap_err();
        assert_eq!(e, RecastRefusal::TooMany { cast: 20 });
        assert_eq!(e.retry_after_secs(), None);
        assert!(e.to_string().contains("the most allowed is 20"), "{e}");
    }
}
