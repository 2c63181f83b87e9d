//! The menu of every page: a bottom tab bar on phones, a side menu on
//! desktop. [`entries`] is the one function that decides it from the
//! caller's grants, asking `gongzhi_domain::policy` with the action the
//! linked page itself checks, so a role never sees a link it cannot use.
//! [`layer`] computes it once per page request and hands it to `base.html`
//! (`crate::menu::current()`), as the CSRF token is.

use crate::session::{self, CurrentUser};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use gongzhi_domain::policy::{self, Action, Actor, Role, Target};
use gongzhi_store::register;

/// One menu entry: a translation key and where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: &'static str,
    pub href: String,
}

/// A place a grant is over, as the menu needs it.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub id: String,
    pub kind: String,
    /// Place ids from the top down to this place.
    pub path: Vec<String>,
    /// The compound this place is or lies in: its code and path.
    pub compound: Option<(String, Vec<String>)>,
}

/// What the menu of one user is built from.
#[derive(Debug, Clone, Default)]
pub struct Basis {
    pub scopes: Vec<Scope>,
    /// The owners of record linked to the user's account.
    pub owners: Vec<String>,
    /// The account's person is in the party member register.
    pub party_member: bool,
    /// The account's person is a current contact of an employer unit.
    pub employer_contact: bool,
}

fn may(actor: &Actor, action: Action, path: &[String]) -> bool {
    policy::authorize(actor, action, Target { path }).is_ok()
}

fn holds(actor: &Actor, role: Role) -> bool {
    actor.grants.iter().any(|g| g.role == role)
}

/// The menu entries `actor` may use, in display order, each once.
/// Every entry mirrors the check of the page it links to.
pub fn entries(actor: &Actor, basis: &Basis) -> Vec<Entry> {
    let mut out = vec![Entry {
        key: "menu.home",
        href: "/".into(),
    }];
    let mut push = |key: &'static str, href: String| {
        if !out.iter().any(|e| e.key == key) {
            out.push(Entry { key, href });
        }
    };
    let anywhere = |action: Action| basis.scopes.iter().any(|s| may(actor, action, &s.path));
    // An owner: their household (the owner page shows their own parts).
    if let Some(o) = basis.owners.first() {
        push("menu.household", format!("/owners/{o}"));
    }
    // The work: the case queue of a place the user reads the cases of.
    for s in &basis.scopes {
        if may(actor, Action::ReadCases, &s.path) {
            push("menu.queue", format!("/places/{}/queue", s.id));
        }
    }
    // The money: the approval queue, else the public board of the books.
    for s in &basis.scopes {
        if let Some((code, path)) = &s.compound {
            if may(actor, Action::ApproveDisbursement, path) {
                push("menu.approvals", format!("/compounds/{code}/books/queue"));
            }
        }
    }
    for s in &basis.scopes {
        if let Some((code, _)) = &s.compound {
            push("menu.books", format!("/compounds/{code}/books"));
        }
    }
    // Votes: an owner's own ballots, or the votes someone runs.
    if !basis.owners.is_empty() || holds(actor, Role::Owner) || anywhere(Action::ManageVotes) {
        push("menu.votes", "/votes".into());
    }
    // Matters: for those who deliberate or oversee them.
    for s in &basis.scopes {
        if may(actor, Action::Deliberate, &s.path) || may(actor, Action::ReadAudit, &s.path) {
            push("menu.matters", format!("/places/{}/matters", s.id));
        }
    }
    // Cases: one's own, and reporting one (`/cases/new` takes a compound
    // one may raise cases in; grid workers raise them on someone's behalf).
    if anywhere(Action::RaiseCase) || anywhere(Action::ReadCases) {
        push("menu.cases", "/cases".into());
        // The news of those cases: one's notifications.
        push("menu.notifications", "/notifications".into());
    }
    if basis
        .scopes
        .iter()
        .any(|s| s.kind == "compound" && may(actor, Action::RaiseCase, &s.path))
    {
        let key = if anywhere(Action::RaiseCaseOnBehalf) {
            "menu.report_for"
        } else {
            "menu.report"
        };
        push(key, "/cases/new".into());
    }
    // Party members at home: one's own check-in; the branch's console;
    // an employer unit's receipts.
    if basis.party_member {
        push("menu.party", "/party".into());
    }
    for s in &basis.scopes {
        if may(actor, Action::ReadParty, &s.path) {
            push("menu.party_branch", format!("/places/{}/party", s.id));
        }
    }
    if basis.employer_contact {
        push("menu.employer", "/party/employer".into());
    }
    // Points: a resident's (a volunteer's) own points and store; the
    // store's desk (a community's) for station and community staff.
    if holds(actor, Role::Resident) {
        push("menu.points", "/points".into());
    }
    for s in &basis.scopes {
        if s.kind == "community" && may(actor, Action::ManageStore, &s.path) {
            push("menu.store", format!("/places/{}/store", s.id));
        }
    }
    // A person with no household and no role yet: claim one's home.
    if basis.owners.is_empty() && basis.scopes.is_empty() {
        push("menu.claim", "/claim".into());
    }
    // Accounts and claims, for the staff who manage access over a place.
    for s in &basis.scopes {
        if may(actor, Action::ManageAccess, &s.path) {
            push("menu.accounts", format!("/places/{}/accounts", s.id));
        }
    }
    // The register: places, for the staff who keep it.
    for s in &basis.scopes {
        if s.kind != "compound" && may(actor, Action::WriteRegister, &s.path) {
            push("menu.places", format!("/places/{}", s.id));
        }
    }
    out
}

/// Loads what [`entries`] needs: the places of the user's grants (an
/// administrator's: the top places) and the owners linked to the account.
pub async fn basis(state: &AppState, user: &CurrentUser) -> Basis {
    let mut scopes: Vec<Scope> = Vec::new();
    let mut places: Vec<register::Place> = Vec::new();
    for g in &user.actor.grants {
        match g.scope.last() {
            Some(id) => {
                if let Ok(p) = register::get_place(&state.db, id).await {
                    places.push(p);
                }
            }
            None => {
                for s in register::children(&state.db, None)
                    .await
                    .unwrap_or_default()
                {
                    if let Ok(p) = register::get_place(&state.db, &s.id).await {
                        places.push(p);
                    }
                }
            }
        }
    }
    for p in places {
        if scopes.iter().any(|s| s.id == p.id) {
            continue;
        }
        let compound = if p.kind == "compound" {
            p.code.clone().map(|c| (c, p.path_ids()))
        } else {
            register::ancestors(&state.db, &p)
                .await
                .unwrap_or_default()
                .into_iter()
                .find(|a| a.kind == "compound")
                .and_then(|a| a.code.clone().map(|c| (c, a.path_ids())))
        };
        scopes.push(Scope {
            path: p.path_ids(),
            id: p.id,
            kind: p.kind,
            compound,
        });
    }
    let owners = gongzhi_store::auth::owners_of_user(&state.db, &user.user_id)
        .await
        .unwrap_or_default();
    let (party_member, employer_contact) = gongzhi_store::party::standing_of_user(
        &state.db,
        &user.user_id,
        gongzhi_store::db::now_ms(),
    )
    .await
    .unwrap_or_default();
    Basis {
        scopes,
        owners,
        party_member,
        employer_contact,
    }
}

/// The menu of a page being served.
#[derive(Clone, Default)]
pub struct Current {
    pub entries: Vec<Entry>,
    pub path: String,
    pub logged_in: bool,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// The menu entries of the page being rendered (empty when logged out).
pub fn current() -> Vec<Entry> {
    CURRENT.try_with(|c| c.entries.clone()).unwrap_or_default()
}

/// Whether `href` is the page being served (marked in the menu).
pub fn here(href: &str) -> bool {
    CURRENT.try_with(|c| c.path == href).unwrap_or(false)
}

/// Whether the menu of the page being served leads to `href` (pages link
/// to a form only when the menu does, so no role sees a link it cannot use).
pub fn offers(href: &str) -> bool {
    CURRENT
        .try_with(|c| c.entries.iter().any(|e| e.href == href))
        .unwrap_or(false)
}

/// Whether the page is served to a logged-in user.
pub fn logged_in() -> bool {
    CURRENT.try_with(|c| c.logged_in).unwrap_or(false)
}

/// Whether a request is for a page a browser shows (not the API, assets,
/// Open311 or the probes).
pub fn is_page(path: &str) -> bool {
    ![
        "/api/",
        "/assets/",
        "/open311/",
        "/healthz",
        "/readyz",
        "/metrics",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Computes the menu of a page request with a session and sets it for the
/// templates of the response.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wanted = is_page(&path)
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && session::cookie(req.headers(), session::SESSION_COOKIE).is_some()
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req.headers().contains_key("hx-request");
    let mut current = Current {
        path,
        ..Default::default()
    };
    if wanted {
        if let Ok(Some(user)) = session::resolve(&state, req.headers()).await {
            let b = basis(&state, &user).await;
            current.entries = entries(&user.actor, &b);
            current.logged_in = true;
            // the handler's extractor takes this user instead of resolving
            // the session a second time
            req.extensions_mut().insert(user);
        }
    }
    CURRENT.scope(current, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_domain::policy::Grant;

    fn ids(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    fn compound() -> Scope {
        Scope {
            id: "c".into(),
            kind: "compound".into(),
            path: ids(&["s", "m", "c"]),
            compound: Some(("jc".into(), ids(&["s", "m", "c"]))),
        }
    }

    fn actor(role: Role, scope: &[&str], grid: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            grants: vec![Grant {
                role,
                scope: ids(scope),
                grid: grid.map(str::to_string),
            }],
        }
    }

    fn keys(actor: &Actor, basis: &Basis) -> Vec<&'static str> {
        entries(actor, basis).into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn each_role_gets_its_own_menu() {
        let b = Basis {
            scopes: vec![compound()],
            owners: vec![],
            ..Default::default()
        };
        let owner = Basis {
            owners: vec!["o1".into()],
            ..b.clone()
        };
        assert_eq!(
            keys(&actor(Role::Owner, &["s", "m", "c"], None), &owner),
            [
                "menu.home",
                "menu.household",
                "menu.books",
                "menu.votes",
                "menu.cases",
                "menu.notifications",
                "menu.report"
            ]
        );
        assert_eq!(
            keys(&actor(Role::GridWorker, &["s", "m", "c"], Some("g")), &b),
            [
                "menu.home",
                "menu.queue",
                "menu.books",
                "menu.cases",
                "menu.notifications",
                "menu.report_for"
            ]
        );
        assert_eq!(
            keys(&actor(Role::Supervisor, &["s", "m", "c"], None), &b),
            ["menu.home", "menu.approvals", "menu.books", "menu.matters"]
        );
        assert_eq!(
            keys(&actor(Role::Steward, &["s", "m", "c"], None), &b),
            [
                "menu.home",
                "menu.queue",
                "menu.approvals",
                "menu.books",
                "menu.cases",
                "menu.notifications",
                "menu.report_for"
            ]
        );
        let community = Basis {
            scopes: vec![Scope {
                id: "m".into(),
                kind: "community".into(),
                path: ids(&["s", "m"]),
                compound: None,
            }],
            owners: vec![],
            ..Default::default()
        };
        let staff = keys(&actor(Role::CommunityStaff, &["s", "m"], None), &community);
        assert_eq!(
            staff,
            [
                "menu.home",
                "menu.queue",
                "menu.votes",
                "menu.matters",
                "menu.cases",
                "menu.notifications",
                "menu.party_branch",
                "menu.store",
                "menu.accounts",
                "menu.places"
            ]
        );
        // A building head's grant is over a building: no report form
        // (`/cases/new` takes a compound), no approval queue.
        let building = Basis {
            scopes: vec![Scope {
                id: "b".into(),
                kind: "building".into(),
                path: ids(&["s", "m", "c", "b"]),
                compound: Some(("jc".into(), ids(&["s", "m", "c"]))),
            }],
            owners: vec![],
            ..Default::default()
        };
        let head = keys(
            &actor(Role::BuildingHead, &["s", "m", "c", "b"], None),
            &building,
        );
        assert_eq!(
            head,
            [
                "menu.home",
                "menu.queue",
                "menu.books",
                "menu.cases",
                "menu.notifications"
            ]
        );
    }

    #[test]
    fn party_entries_follow_the_register_and_the_policy() {
        let b = Basis {
            scopes: vec![compound()],
            ..Default::default()
        };
        let owner = actor(Role::Owner, &["s", "m", "c"], None);
        assert!(!keys(&owner, &b).iter().any(|k| k.starts_with("menu.party")));
        let member = Basis {
            party_member: true,
            ..b.clone()
        };
        assert!(keys(&owner, &member).contains(&"menu.party"));
        let secretary = keys(&actor(Role::BranchSecretary, &["s", "m", "c"], None), &b);
        assert!(secretary.contains(&"menu.party_branch"), "{secretary:?}");
        let committee = keys(&actor(Role::CommitteeMember, &["s", "m", "c"], None), &b);
        assert!(!committee.contains(&"menu.party_branch"), "{committee:?}");
        let contact = Basis {
            employer_contact: true,
            ..Default::default()
        };
        assert_eq!(
            keys(
                &Actor {
                    user_id: "u".into(),
                    grants: vec![]
                },
                &contact
            ),
            ["menu.home", "menu.employer", "menu.claim"]
        );
        // a new account with no household and no role: claim one's home
        let nobody = Actor {
            user_id: "u".into(),
            grants: vec![],
        };
        assert_eq!(
            keys(&nobody, &Basis::default()),
            ["menu.home", "menu.claim"]
        );
    }

    #[test]
    fn a_resident_sees_no_staff_entries() {
        let b = Basis {
            scopes: vec![compound()],
            owners: vec![],
            ..Default::default()
        };
        let got = keys(&actor(Role::Resident, &["s", "m", "c"], None), &b);
        for k in [
            "menu.queue",
            "menu.approvals",
            "menu.matters",
            "menu.places",
            "menu.votes",
            "menu.household",
        ] {
            assert!(!got.contains(&k), "{k} in {got:?}");
        }
        assert!(got.contains(&"menu.report"));
    }

    #[test]
    fn every_entry_is_translated() {
        for k in [
            "menu.home",
            "menu.household",
            "menu.queue",
            "menu.approvals",
            "menu.books",
            "menu.votes",
            "menu.matters",
            "menu.cases",
            "menu.notifications",
            "menu.report",
            "menu.report_for",
            "menu.places",
        ] {
            assert!(crate::i18n::MESSAGES.iter().any(|m| m.0 == k), "{k}");
        }
    }
}
