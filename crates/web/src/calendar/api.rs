//! `GET /api/v1/public/calendar/{year}`: the holidays and swapped working
//! days the server counts working-day deadlines with (public: they are the
//! State Council's, corrected by the deployment).

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::Path;
use axum::Json;
use gongzhi_domain::calendar::DayKind;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(calendar_year))
}

/// One listed day.
#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `holiday` (not worked) or `workday` (a weekend day that is worked).
    pub kind: String,
    /// The holiday's name, e.g. 国庆节.
    pub name: String,
}

/// One region's year.
#[derive(Serialize, ToSchema)]
pub struct CalendarYear {
    pub region: String,
    pub year: i64,
    pub days: Vec<CalendarDay>,
}

/// The calendars of a year (one per region).
#[derive(Serialize, ToSchema)]
pub struct CalendarAnswer {
    pub years: Vec<CalendarYear>,
}

/// The year's holidays and swapped working days, by region. Other days:
/// Monday to Friday are working days, Saturday and Sunday are not.
#[utoipa::path(get, path = "/api/v1/public/calendar/{year}", tag = "public", params(("year" = i64, Path, description = "e.g. 2026")), responses((status = 200, body = CalendarAnswer), (status = 404, description = "no calendar for that year")))]
async fn calendar_year(Path(year): Path<i64>) -> Result<Json<CalendarAnswer>, ApiError> {
    let years: Vec<CalendarYear> = super::years()
        .iter()
        .filter(|y| y.year == year)
        .map(|y| CalendarYear {
            region: y.region.clone(),
            year: y.year,
            days: y
                .days
                .iter()
                .map(|d| CalendarDay {
                    date: d.date.clone(),
                    kind: match d.kind {
                        DayKind::Holiday => "holiday",
                        DayKind::Workday => "workday",
                    }
                    .into(),
                    name: d.name.clone(),
                })
                .collect(),
        })
        .collect();
    if years.is_empty() {
        return Err(ApiError::not_found(format!(
            "no calendar for {year}: deadlines that year count Monday to Friday only; add DATA_DIR/calendars/cn-{year}.txt"
        )));
    }
    Ok(Json(CalendarAnswer { years }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[tokio::test]
    async fn a_year_with_a_calendar_and_one_without() {
        let Json(a) = calendar_year(Path(2026)).await.unwrap();
        assert_eq!(a.years.len(), 1);
        let y = &a.years[0];
        assert_eq!((y.region.as_str(), y.year), ("cn", 2026));
        assert_eq!(y.days.iter().filter(|d| d.kind == "holiday").count(), 33);
        assert_eq!(y.days.iter().filter(|d| d.kind == "workday").count(), 6);
        let oct = y.days.iter().find(|d| d.date == "2026-10-01").unwrap();
        assert_eq!(oct.name, "国庆节");
        let e = calendar_year(Path(2031)).await.err().unwrap();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
    }
}
