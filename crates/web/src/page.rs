//! What every page shares: the reader's language (`?lang=`, cookie,
//! `Accept-Language`), rendering a template with the language cookie, an error
//! page for an [`ApiError`], and times in China Standard Time.

use crate::i18n::Lang;
use crate::problem::ApiError;
use askama::Template;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use gongzhi_domain::cases::parse_iso;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

pub(crate) fn lang_of(q: &LangQuery, headers: &HeaderMap) -> (Lang, Option<Lang>) {
    (
        Lang::from_request(q.lang.as_deref(), headers),
        q.lang.as_deref().and_then(Lang::parse),
    )
}

pub(crate) fn render<T: Template>(t: &T, status: StatusCode, set: Option<Lang>) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            if let Some(l) = set {
                if let Ok(v) = format!(
                    "gz_lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
                    l.code()
                )
                .parse()
                {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(
    source = "{% extends \"base.html\" %}{% block title %}{{ status }}{% endblock %}{% block content %}<h1>{{ status }} {{ lang.t(title_key) }}</h1><p class=\"muted\" id=\"error-detail\">{{ detail }}</p><p><a href=\"/votes\">{{ lang.t(\"votes.mine\") }}</a></p>{% endblock %}",
    ext = "html"
)]
struct PageError {
    lang: Lang,
    logged_in: bool,
    status: u16,
    title_key: &'static str,
    detail: String,
}

pub(crate) fn page_error(e: ApiError, lang: Lang) -> Response {
    let title_key = match e.status.as_u16() {
        404 => "err.not_found",
        403 => "err.forbidden",
        429 => "err.too_many",
        _ => "err.other",
    };
    let mut r = render(
        &PageError {
            lang,
            logged_in: true,
            status: e.status.as_u16(),
            title_key,
            detail: e.detail,
        },
        e.status,
        None,
    );
    if let Some(v) = e.retry_after.and_then(|s| s.to_string().parse().ok()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `ms` since the epoch as `YYYY-MM-DD HH:MM` in China Standard Time (UTC+8).
pub fn cst(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The non-empty lines of a text area, trimmed.
pub(crate) fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The first value of form field `k` (empty if absent).
pub(crate) fn field_value(fields: &[(String, String)], k: &str) -> String {
    fields
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// A `datetime-local` input (China Standard Time) as ms since the epoch.
pub(crate) fn local_time(field: &str, s: &str) -> Result<i64, ApiError> {
    parse_iso(&format!("{}+08:00", s.trim()))
        .ok_or_else(|| ApiError::field(field, "a date and time, YYYY-MM-DDTHH:MM"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_standard_time() {
        assert_eq!(cst(0), "1970-01-01 08:00");
        // 2024-02-29 15:59:59 UTC is 23:59 in Beijing.
        assert_eq!(cst(1_709_222_399_000), "2024-02-29 23:59");
        assert_eq!(cst(1_709_222_400_000), "2024-03-01 00:00");
    }
}
