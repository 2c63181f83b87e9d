//! Access policy: the one place where every request is decided.
//!
//! Roles are granted over a place scope (a path of place ids from the district
//! down). A grant covers its place and everything below it. Grid workers'
//! grants may be narrowed to one micro-grid. Anything not allowed here is denied.

use crate::place::str_enum;

str_enum!(
    /// What someone may be over a place.
    Role {
        Admin = "admin",
        StreetAdmin = "street_admin",
        CommunityStaff = "community_staff",
        GridWorker = "grid_worker",
        CommitteeMember = "committee_member",
        Supervisor = "supervisor",
        Steward = "steward",
        BranchSecretary = "branch_secretary",
        Auditor = "auditor",
        Owner = "owner",
        Resident = "resident",
        BuildingHead = "building_head",
        // 初心驿站 staff: the station's store and its hand-overs
        StationStaff = "station_staff",
    }
);

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See places, parts, areas and grids' shapes (no personal data).
    ReadStructure,
    /// See owners, residents and members (phones and ID numbers masked).
    ReadRegister,
    /// Create or change places, parts, people, grids, organisations.
    WriteRegister,
    /// Import a roster into a place.
    ImportRoster,
    /// Grant and revoke roles below a place.
    ManageAccess,
    /// Read the audit trail of a place.
    ReadAudit,
    /// Create, open and close owners' votes over a place.
    ManageVotes,
    /// Record paper ballots and written proxies (with evidence) in a vote over a place.
    RecordBallots,
    /// Raise a case about a place (residents for their own compound; staff on someone's behalf).
    RaiseCase,
    /// See, accept, assign, work on and resolve the cases of a place.
    HandleCase,
    /// Escalate a case on purpose (吹哨) and run the overdue sweep.
    EscalateCase,
    /// Read a compound's books (beyond the public aggregate books).
    ReadBooks,
    /// Record income, fees, interest and other posted transfers.
    RecordTransfer,
    /// Request, approve or void a disbursement (which of the two approvals a
    /// person may give is decided by the compound's `ledger::ApprovalPolicy`).
    ApproveDisbursement,
    /// Raise a case on a resident's behalf (door-knocking, phone, station).
    RaiseCaseOnBehalf,
    /// Verify (核查) a resolved case.
    VerifyCase,
    /// See the cases and the work queue of a place.
    ReadCases,
    /// Convene meetings and record their minutes, publish and close
    /// questionnaires on the matters of a place.
    Deliberate,
    /// Adopt a compound's annual budget (by a passed vote) and set how the
    /// books run (remuneration mode, emergency approvers).
    AdoptBudget,
    /// Record an audit report on a compound's books.
    RecordAudit,
    /// See the party members living below a place (sensitive: PIPL art. 28)
    /// and their check-ins and figures.
    ReadParty,
    /// Confirm party members' check-ins and record paper ones.
    ManageParty,
    /// Award points (积分) by hand to people of a place's community.
    AwardPoints,
    /// Put items in a place's points store.
    ManageStore,
    /// Hand a held redemption over at the station (posting its points).
    HandOverRedemption,
    /// Record a household's micro-wish and confirm its receipt.
    RecordWish,
    /// Verify micro-wishes, resolve unclaimed ones, read their figures.
    VerifyWish,
}

impl Role {
    fn allows(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        // Whoever handles cases may also raise them on behalf, verify them and read them.
        if matches!(action, RaiseCaseOnBehalf | VerifyCase | ReadCases) && self != BuildingHead {
            return self.allows(HandleCase);
        }
        if let Some(allowed) = self.allows_books(action) {
            return allowed;
        }
        match self {
            Admin => true,
            StreetAdmin | CommunityStaff => true,
            GridWorker => matches!(
                action,
                ReadStructure
                    | ReadRegister
                    | RecordBallots
                    | RaiseCase
                    | HandleCase
                    | EscalateCase
            ),
            CommitteeMember => matches!(
                action,
                ReadStructure
                    | ReadRegister
                    | ReadAudit
                    | ManageVotes
                    | RecordBallots
                    | RaiseCase
                    | HandleCase
                    | ReadBooks
                    | ApproveDisbursement
                    | Deliberate
            ),
            BranchSecretary => matches!(
                action,
                ReadStructure
                    | ReadRegister
                    | ReadAudit
                    | RaiseCase
                    | HandleCase
                    | EscalateCase
                    | ReadBooks
                    | ApproveDisbursement
                    | Deliberate
            ),
            Supervisor => matches!(
                action,
                ReadStructure | ReadRegister | ReadAudit | ReadBooks | ApproveDisbursement
            ),
            Steward => matches!(
                action,
                ReadStructure
                    | ReadRegister
                    | RaiseCase
                    | HandleCase
                    | ReadBooks
                    | RecordTransfer
                    | ApproveDisbursement
            ),
            Auditor => matches!(action, ReadStructure | ReadAudit | ReadBooks),
            Owner => matches!(action, ReadStructure | RaiseCase | ReadBooks),
            Resident => matches!(action, ReadStructure | RaiseCase),
            // 楼栋长: a volunteer over one building (the grant's scope).
            BuildingHead => matches!(
                action,
                ReadStructure | RaiseCase | RaiseCaseOnBehalf | VerifyCase | ReadCases
            ),
            StationStaff => matches!(action, ReadStructure),
        }
    }

    /// The books' governance actions, decided apart from the lists above:
    /// the committee adopts budgets; only an auditor records an audit.
    fn allows_books(self, action: Action) -> Option<bool> {
        use Role::*;
        match action {
            Action::AdoptBudget => Some(matches!(
                self,
                Admin | StreetAdmin | CommunityStaff | CommitteeMember
            )),
            Action::RecordAudit => Some(matches!(self, Admin | Auditor)),
            // party membership: the party organisations and party staff only
            Action::ReadParty | Action::ManageParty => Some(matches!(
                self,
                Admin | StreetAdmin | CommunityStaff | BranchSecretary
            )),
            // points are awarded by community staff; the store is kept by
            // them and by the station's staff
            Action::AwardPoints => Some(matches!(self, Admin | StreetAdmin | CommunityStaff)),
            Action::ManageStore | Action::HandOverRedemption => Some(matches!(
                self,
                Admin | StreetAdmin | CommunityStaff | StationStaff
            )),
            Action::RecordWish => Some(matches!(
                self,
                Admin | StreetAdmin | CommunityStaff | StationStaff | GridWorker
            )),
            Action::VerifyWish => Some(matches!(self, Admin | StreetAdmin | CommunityStaff)),
            _ => None,
        }
    }

    /// Roles a person may be granted only by an administrator.
    pub fn admin_only(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// A role over a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// Place ids from the top of the hierarchy down to the scope. Empty means
    /// everywhere (only for administrators).
    pub scope: Vec<String>,
    /// Narrows a grid worker's grant to one micro-grid.
    pub grid: Option<String>,
}

/// Who is asking.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: String,
    pub grants: Vec<Grant>,
}

/// What is asked about: a place given by its path of ids (root first).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub path: &'a [String],
}

/// How much of the target an allowed request may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything in the target.
    Full,
    /// Only parts in these micro-grids.
    Grids(Vec<String>),
}

/// A refusal, with the reason given to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

fn covers(scope: &[String], path: &[String]) -> bool {
    scope.len() <= path.len() && scope.iter().zip(path).all(|(a, b)| a == b)
}

/// Decides whether `actor` may do `action` on `target`. Denied by default.
pub fn authorize(actor: &Actor, action: Action, target: Target<'_>) -> Result<Access, Denied> {
    let mut grids = Vec::new();
    for g in &actor.grants {
        if !g.role.allows(action) || !covers(&g.scope, target.path) {
            continue;
        }
        match (&g.grid, g.role) {
            (Some(grid), Role::GridWorker) if grid_narrowed(action) => grids.push(grid.clone()),
            _ => return Ok(Access::Full),
        }
    }
    if !grids.is_empty() {
        grids.sort();
        grids.dedup();
        return Ok(Access::Grids(grids));
    }
    Err(Denied(format!(
        "not allowed to {} here",
        action_name(action)
    )))
}

/// What a grid worker scoped to a micro-grid sees and does only in that
/// micro-grid (the register's people, and the cases they handle and read).
fn grid_narrowed(action: Action) -> bool {
    matches!(
        action,
        Action::ReadRegister | Action::HandleCase | Action::ReadCases | Action::VerifyCase
    )
}

/// Decides whether `actor` may do `action` on one case at `target` whose
/// micro-grid is `case_grid`: a grid worker scoped to a micro-grid acts only
/// on cases of that micro-grid (accept, assign, resolve, verify, 吹哨), even
/// inside their compound. Denied by default.
pub fn authorize_case(
    actor: &Actor,
    action: Action,
    target: Target<'_>,
    case_grid: Option<&str>,
) -> Result<(), Denied> {
    let mut outside_grid = false;
    for g in &actor.grants {
        if !g.role.allows(action) || !covers(&g.scope, target.path) {
            continue;
        }
        match (&g.grid, g.role) {
            (Some(grid), Role::GridWorker) if case_grid != Some(grid.as_str()) => {
                outside_grid = true
            }
            _ => return Ok(()),
        }
    }
    Err(Denied(if outside_grid {
        format!(
            "not allowed to {}: the case is outside your micro-grid",
            action_name(action)
        )
    } else {
        format!("not allowed to {} here", action_name(action))
    }))
}

/// Decides whether `actor` may grant `role` over the place at `path`: they must
/// manage access over it, and only administrators grant administrators.
pub fn authorize_grant(actor: &Actor, role: Role, path: &[String]) -> Result<(), Denied> {
    authorize(actor, Action::ManageAccess, Target { path })?;
    if role.admin_only()
        && !actor
            .grants
            .iter()
            .any(|g| g.role == Role::Admin && g.scope.is_empty())
    {
        return Err(Denied(
            "only an administrator may grant the admin role".into(),
        ));
    }
    Ok(())
}

/// True when the actor holds any grant at or below `path` or above it: used to
/// decide whether a place may even be named to them (it is in their world).
pub fn can_see_place(actor: &Actor, path: &[String]) -> bool {
    actor
        .grants
        .iter()
        .any(|g| covers(&g.scope, path) || covers(path, &g.scope))
}

/// The roles `actor` holds over the place at `path` (grants at or above it).
pub fn roles_over(actor: &Actor, path: &[String]) -> Vec<Role> {
    let mut out: Vec<Role> = actor
        .grants
        .iter()
        .filter(|g| covers(&g.scope, path))
        .map(|g| g.role)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::ReadStructure => "read this place",
        Action::ReadRegister => "read the register of this place",
        Action::WriteRegister => "change the register of this place",
        Action::ImportRoster => "import a roster into this place",
        Action::ManageAccess => "manage access to this place",
        Action::ReadAudit => "read the audit trail of this place",
        Action::ManageVotes => "manage votes over this place",
        Action::RecordBallots => "record ballots in votes over this place",
        Action::RaiseCase => "raise a case about this place",
        Action::HandleCase => "handle the cases of this place",
        Action::EscalateCase => "escalate the cases of this place",
        Action::ReadBooks => "read the books of this place",
        Action::RecordTransfer => "record transfers in the books of this place",
        Action::ApproveDisbursement => "request or approve disbursements here",
        Action::RaiseCaseOnBehalf => "raise cases on someone's behalf here",
        Action::VerifyCase => "verify the cases of this place",
        Action::ReadCases => "see the cases of this place",
        Action::Deliberate => "convene meetings or publish questionnaires here",
        Action::AdoptBudget => "adopt budgets and set how the books of this place run",
        Action::RecordAudit => "record audit reports on the books of this place",
        Action::ReadParty => "see the party members of this place",
        Action::ManageParty => "confirm the party members' check-ins here",
        Action::AwardPoints => "award points here",
        Action::ManageStore => "manage the points store here",
        Action::HandOverRedemption => "hand over redemptions here",
        Action::RecordWish => "record micro-wishes here",
        Action::VerifyWish => "verify micro-wishes here",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }
    fn actor(grants: Vec<Grant>) -> Actor {
        Actor {
            user_id: "u".into(),
            grants,
        }
    }
    fn g(role: Role, scope: &[&str]) -> Grant {
        Grant {
            role,
            scope: p(scope),
            grid: None,
        }
    }

    #[test]
    fn books_roles() {
        let c = p(&["d", "s", "c", "x"]);
        let steward = actor(vec![g(Role::Steward, &["d", "s", "c", "x"])]);
        assert!(authorize(&steward, Action::RecordTransfer, Target { path: &c }).is_ok());
        let committee = actor(vec![
            g(Role::CommitteeMember, &["d", "s", "c", "x"]),
            g(Role::Supervisor, &["d", "s", "c", "y"]),
        ]);
        assert!(authorize(&committee, Action::RecordTransfer, Target { path: &c }).is_err());
        assert!(authorize(&committee, Action::ApproveDisbursement, Target { path: &c }).is_ok());
        assert_eq!(roles_over(&committee, &c), vec![Role::CommitteeMember]);
        let owner = actor(vec![g(Role::Owner, &["d", "s", "c", "x"])]);
        assert!(authorize(&owner, Action::ReadBooks, Target { path: &c }).is_ok());
        assert!(authorize(&owner, Action::ApproveDisbursement, Target { path: &c }).is_err());
        let resident = actor(vec![g(Role::Resident, &["d", "s", "c", "x"])]);
        assert!(authorize(&resident, Action::ReadBooks, Target { path: &c }).is_err());
    }

    #[test]
    fn who_keeps_points() {
        let c = p(&["d", "s", "c"]);
        for (role, award, store) in [
            (Role::CommunityStaff, true, true),
            (Role::StationStaff, false, true),
            (Role::GridWorker, false, false),
            (Role::Resident, false, false),
            (Role::BranchSecretary, false, false),
        ] {
            let a = actor(vec![g(role, &["d", "s", "c"])]);
            let on = |x| authorize(&a, x, Target { path: &c }).is_ok();
            assert_eq!(on(Action::AwardPoints), award, "{role:?}");
            assert_eq!(on(Action::ManageStore), store, "{role:?}");
            assert_eq!(on(Action::HandOverRedemption), store, "{role:?}");
        }
        // never over another community
        let other = actor(vec![g(Role::CommunityStaff, &["d", "s", "x"])]);
        assert!(authorize(&other, Action::AwardPoints, Target { path: &c }).is_err());
    }

    #[test]
    fn who_deliberates() {
        let c = p(&["d", "s", "c", "x"]);
        for (role, ok) in [
            (Role::CommitteeMember, true),
            (Role::BranchSecretary, true),
            (Role::CommunityStaff, true),
            (Role::GridWorker, false),
            (Role::Steward, false),
            (Role::Owner, false),
            (Role::Resident, false),
        ] {
            let a = actor(vec![g(role, &["d", "s", "c", "x"])]);
            assert_eq!(
                authorize(&a, Action::Deliberate, Target { path: &c }).is_ok(),
                ok,
                "{role:?}"
            );
        }
    }

    #[test]
    fn budgets_and_audits() {
        let c = p(&["d", "s", "c", "x"]);
        let on = |r: Role, a: Action| {
            authorize(
                &actor(vec![g(r, &["d", "s", "c", "x"])]),
                a,
                Target { path: &c },
            )
            .is_ok()
        };
        assert!(on(Role::CommitteeMember, Action::AdoptBudget));
        for r in [Role::Steward, Role::Supervisor, Role::Owner, Role::Auditor] {
            assert!(!on(r, Action::AdoptBudget), "{r} adopts no budget");
        }
        // the auditor reads the books and the audit trail and records audits,
        // and moves no money
        assert!(on(Role::Auditor, Action::RecordAudit));
        for &r in Role::ALL.iter() {
            let party = matches!(
                r,
                Role::Admin | Role::StreetAdmin | Role::CommunityStaff | Role::BranchSecretary
            );
            assert_eq!(on(r, Action::ReadParty), party, "{r} reads party members");
            assert_eq!(on(r, Action::ManageParty), party, "{r} confirms check-ins");
        }
        assert!(on(Role::Auditor, Action::ReadBooks));
        assert!(on(Role::Auditor, Action::ReadAudit));
        for a in [
            Action::ApproveDisbursement,
            Action::RecordTransfer,
            Action::AdoptBudget,
            Action::WriteRegister,
            Action::ManageVotes,
            Action::ManageAccess,
        ] {
            assert!(!on(Role::Auditor, a), "the auditor may not {a:?}");
        }
        for r in [
            Role::CommitteeMember,
            Role::Steward,
            Role::Supervisor,
            Role::CommunityStaff,
        ] {
            assert!(!on(r, Action::RecordAudit), "{r} records no audit");
        }
        // only over its own compound
        let other = p(&["d", "s", "c", "y"]);
        let auditor = actor(vec![g(Role::Auditor, &["d", "s", "c", "x"])]);
        assert!(authorize(&auditor, Action::ReadBooks, Target { path: &other }).is_err());
        assert!(authorize(&auditor, Action::RecordAudit, Target { path: &other }).is_err());
    }

    #[test]
    fn denied_by_default() {
        let a = actor(vec![]);
        for act in [
            Action::ReadStructure,
            Action::ReadRegister,
            Action::WriteRegister,
            Action::ManageAccess,
        ] {
            assert!(authorize(&a, act, Target { path: &p(&["d"]) }).is_err());
        }
    }

    #[test]
    fn scope_covers_only_below() {
        let a = actor(vec![g(Role::CommitteeMember, &["d", "s", "c", "A"])]);
        let in_a = p(&["d", "s", "c", "A", "b1"]);
        let in_b = p(&["d", "s", "c", "B", "b1"]);
        let above = p(&["d", "s", "c"]);
        assert_eq!(
            authorize(&a, Action::ReadRegister, Target { path: &in_a }),
            Ok(Access::Full)
        );
        assert!(authorize(&a, Action::ReadRegister, Target { path: &in_b }).is_err());
        assert!(authorize(&a, Action::ReadRegister, Target { path: &above }).is_err());
        assert!(authorize(&a, Action::WriteRegister, Target { path: &in_a }).is_err());
    }

    #[test]
    fn residents_are_not_staff() {
        let a = actor(vec![
            g(Role::Owner, &["d", "s", "c", "A"]),
            g(Role::Resident, &["d", "s", "c", "A"]),
        ]);
        let here = p(&["d", "s", "c", "A"]);
        assert!(authorize(&a, Action::ReadStructure, Target { path: &here }).is_ok());
        for act in [
            Action::ReadRegister,
            Action::WriteRegister,
            Action::ImportRoster,
            Action::ManageAccess,
            Action::ReadAudit,
            Action::ManageVotes,
            Action::RecordBallots,
        ] {
            assert!(
                authorize(&a, act, Target { path: &here }).is_err(),
                "{act:?}"
            );
        }
    }

    #[test]
    fn grid_workers_see_their_grid() {
        let a = actor(vec![Grant {
            role: Role::GridWorker,
            scope: p(&["d", "s", "c", "A"]),
            grid: Some("g12".into()),
        }]);
        let here = p(&["d", "s", "c", "A", "b"]);
        assert_eq!(
            authorize(&a, Action::ReadRegister, Target { path: &here }),
            Ok(Access::Grids(vec!["g12".into()]))
        );
        assert_eq!(
            authorize(&a, Action::ReadStructure, Target { path: &here }),
            Ok(Access::Full)
        );
    }

    proptest::proptest! {
        /// A grant over one place never opens any place outside its subtree,
        /// for any role and action; an owner or resident never gets more than
        /// the structure.
        #[test]
        fn grants_never_reach_outside_their_subtree(
            scope in proptest::collection::vec(0u8..3, 1..5),
            target in proptest::collection::vec(0u8..3, 0..7),
            role_i in 0usize..Role::ALL.len(),
        ) {
            let role = Role::ALL[role_i];
            proptest::prop_assume!(role != Role::Admin);
            let ids = |v: &[u8]| v.iter().map(|b| format!("p{b}")).collect::<Vec<_>>();
            let (scope, target) = (ids(&scope), ids(&target));
            let a = actor(vec![Grant { role, scope: scope.clone(), grid: None }]);
            let inside = target.len() >= scope.len() && target[..scope.len()] == scope[..];
            for act in [Action::ReadStructure, Action::ReadRegister, Action::WriteRegister, Action::ImportRoster, Action::ManageAccess, Action::ReadAudit, Action::HandleCase, Action::ReadCases, Action::VerifyCase, Action::RaiseCaseOnBehalf] {
                let ok = authorize(&a, act, Target { path: &target }).is_ok();
                proptest::prop_assert!(!ok || inside, "{role:?} over {scope:?} reached {target:?} for {act:?}");
                if matches!(role, Role::Owner | Role::Resident) && act != Action::ReadStructure {
                    proptest::prop_assert!(!ok);
                }
            }
        }
    }

    #[test]
    fn votes_are_managed_by_staff_and_committee_ballots_recorded_by_grid_workers() {
        let here = p(&["d", "s", "c", "A", "b6"]);
        let other = p(&["d", "s", "c", "B"]);
        let committee = actor(vec![g(Role::CommitteeMember, &["d", "s", "c", "A"])]);
        assert_eq!(
            authorize(&committee, Action::ManageVotes, Target { path: &here }),
            Ok(Access::Full)
        );
        assert!(authorize(&committee, Action::ManageVotes, Target { path: &other }).is_err());
        let w = actor(vec![Grant {
            role: Role::GridWorker,
            scope: p(&["d", "s", "c", "A"]),
            grid: Some("g1".into()),
        }]);
        assert_eq!(
            authorize(&w, Action::RecordBallots, Target { path: &here }),
            Ok(Access::Full)
        );
        assert!(authorize(&w, Action::RecordBallots, Target { path: &other }).is_err());
        assert!(authorize(&w, Action::ManageVotes, Target { path: &here }).is_err());
        for r in [Role::Steward, Role::Auditor, Role::Supervisor, Role::Owner] {
            let a = actor(vec![g(r, &["d", "s", "c", "A"])]);
            assert!(
                authorize(&a, Action::RecordBallots, Target { path: &here }).is_err(),
                "{r:?}"
            );
            assert!(
                authorize(&a, Action::ManageVotes, Target { path: &here }).is_err(),
                "{r:?}"
            );
        }
    }

    #[test]
    fn cases_roles() {
        let here = p(&["d", "s", "c", "A", "b"]);
        let resident = actor(vec![g(Role::Resident, &["d", "s", "c", "A"])]);
        assert!(authorize(&resident, Action::RaiseCase, Target { path: &here }).is_ok());
        assert!(authorize(&resident, Action::HandleCase, Target { path: &here }).is_err());
        assert!(
            authorize(
                &resident,
                Action::RaiseCase,
                Target {
                    path: &p(&["d", "s", "c", "B"])
                }
            )
            .is_err(),
            "only their own compound"
        );
        let steward = actor(vec![g(Role::Steward, &["d", "s", "c", "A"])]);
        assert!(authorize(&steward, Action::HandleCase, Target { path: &here }).is_ok());
        assert!(authorize(&steward, Action::EscalateCase, Target { path: &here }).is_err());
        let auditor = actor(vec![g(Role::Auditor, &["d", "s", "c", "A"])]);
        assert!(authorize(&auditor, Action::HandleCase, Target { path: &here }).is_err());
        let gw = actor(vec![Grant {
            role: Role::GridWorker,
            scope: p(&["d", "s", "c", "A"]),
            grid: Some("g1".into()),
        }]);
        assert_eq!(
            authorize(&gw, Action::EscalateCase, Target { path: &here }),
            Ok(Access::Full)
        );
    }

    #[test]
    fn roles_over_a_place() {
        let a = actor(vec![
            g(Role::Owner, &["d", "s", "c", "A"]),
            g(Role::GridWorker, &["d", "s", "c"]),
            g(Role::CommitteeMember, &["d", "s", "c", "B"]),
        ]);
        assert_eq!(
            roles_over(&a, &p(&["d", "s", "c", "A", "b"])),
            vec![Role::GridWorker, Role::Owner]
        );
        assert_eq!(roles_over(&a, &p(&["d", "s"])), vec![]);
    }

    fn gw(scope: &[&str], grid: &str) -> Grant {
        Grant {
            role: Role::GridWorker,
            scope: p(scope),
            grid: Some(grid.into()),
        }
    }

    #[test]
    fn grid_workers_handle_only_cases_of_their_micro_grid() {
        let a = actor(vec![gw(&["d", "s", "c", "A"], "g1")]);
        let here = p(&["d", "s", "c", "A", "b1"]);
        let t = Target { path: &here };
        for act in [
            Action::HandleCase,
            Action::VerifyCase,
            Action::ReadCases,
            Action::EscalateCase,
        ] {
            assert_eq!(authorize_case(&a, act, t, Some("g1")), Ok(()), "{act:?}");
            let e = authorize_case(&a, act, t, Some("g2")).unwrap_err();
            assert!(e.0.contains("outside your micro-grid"), "{act:?}: {e}");
            assert!(
                authorize_case(&a, act, t, None).is_err(),
                "a case with no grid: {act:?}"
            );
        }
        // The queue of the compound is narrowed to the micro-grid.
        assert_eq!(
            authorize(
                &a,
                Action::HandleCase,
                Target {
                    path: &p(&["d", "s", "c", "A"])
                }
            ),
            Ok(Access::Grids(vec!["g1".into()]))
        );
        // Raising (also on someone's behalf) stays compound-wide; the sweep too.
        assert_eq!(
            authorize(&a, Action::RaiseCaseOnBehalf, t),
            Ok(Access::Full)
        );
        assert_eq!(authorize(&a, Action::EscalateCase, t), Ok(Access::Full));
        // A second, unrestricted grant opens everything it covers.
        let both = actor(vec![
            gw(&["d", "s", "c", "A"], "g1"),
            g(Role::Steward, &["d", "s", "c", "A"]),
        ]);
        assert_eq!(
            authorize_case(&both, Action::HandleCase, t, Some("g2")),
            Ok(())
        );
        // An unrestricted grid worker handles the whole scope.
        let whole = actor(vec![g(Role::GridWorker, &["d", "s", "c", "A"])]);
        assert_eq!(
            authorize_case(&whole, Action::HandleCase, t, Some("g2")),
            Ok(())
        );
        assert!(authorize_case(
            &whole,
            Action::HandleCase,
            Target {
                path: &p(&["d", "s", "c", "B"])
            },
            None
        )
        .is_err());
    }

    #[test]
    fn building_heads_work_in_their_building_only() {
        let bh = actor(vec![g(Role::BuildingHead, &["d", "s", "c", "A", "b1"])]);
        let mine = p(&["d", "s", "c", "A", "b1", "u1"]);
        let next_door = p(&["d", "s", "c", "A", "b2"]);
        let compound = p(&["d", "s", "c", "A"]);
        for act in [
            Action::RaiseCase,
            Action::RaiseCaseOnBehalf,
            Action::VerifyCase,
            Action::ReadCases,
            Action::ReadStructure,
        ] {
            assert_eq!(
                authorize(&bh, act, Target { path: &mine }),
                Ok(Access::Full),
                "{act:?}"
            );
            assert!(
                authorize(&bh, act, Target { path: &next_door }).is_err(),
                "{act:?}"
            );
            assert!(
                authorize(&bh, act, Target { path: &compound }).is_err(),
                "{act:?}"
            );
        }
        for act in [
            Action::HandleCase,
            Action::EscalateCase,
            Action::ReadRegister,
            Action::WriteRegister,
            Action::ManageVotes,
            Action::RecordBallots,
            Action::ReadBooks,
            Action::ReadAudit,
            Action::ManageAccess,
            Action::ApproveDisbursement,
        ] {
            assert!(
                authorize(&bh, act, Target { path: &mine }).is_err(),
                "{act:?}"
            );
        }
        assert_eq!(
            authorize_case(&bh, Action::VerifyCase, Target { path: &mine }, None),
            Ok(())
        );
        assert!(authorize_case(&bh, Action::HandleCase, Target { path: &mine }, None).is_err());
        // Residents neither verify nor raise on behalf; staff who handle do.
        let resident = actor(vec![g(Role::Resident, &["d", "s", "c", "A"])]);
        assert!(authorize(&resident, Action::RaiseCaseOnBehalf, Target { path: &mine }).is_err());
        assert!(authorize(&resident, Action::VerifyCase, Target { path: &mine }).is_err());
        let steward = actor(vec![g(Role::Steward, &["d", "s", "c", "A"])]);
        assert!(authorize(&steward, Action::VerifyCase, Target { path: &mine }).is_ok());
        assert!(authorize(&steward, Action::ReadCases, Target { path: &mine }).is_ok());
    }

    proptest::proptest! {
        /// A building head's grant never reaches outside its building, for any
        /// action, and never handles (accepts, assigns, resolves) or escalates.
        #[test]
        fn building_heads_never_leave_their_building(
            scope in proptest::collection::vec(0u8..3, 1..6),
            target in proptest::collection::vec(0u8..3, 0..7),
            act_i in 0usize..17,
        ) {
            let all = [Action::ReadStructure, Action::ReadRegister, Action::WriteRegister, Action::ImportRoster, Action::ManageAccess, Action::ReadAudit, Action::ManageVotes, Action::RecordBallots, Action::RaiseCase, Action::HandleCase, Action::EscalateCase, Action::ReadBooks, Action::RecordTransfer, Action::ApproveDisbursement, Action::RaiseCaseOnBehalf, Action::VerifyCase, Action::ReadCases];
            let act = all[act_i];
            let ids = |v: &[u8]| v.iter().map(|b| format!("p{b}")).collect::<Vec<_>>();
            let (scope, target) = (ids(&scope), ids(&target));
            let a = actor(vec![Grant { role: Role::BuildingHead, scope: scope.clone(), grid: None }]);
            let inside = target.len() >= scope.len() && target[..scope.len()] == scope[..];
            let ok = authorize(&a, act, Target { path: &target }).is_ok();
            proptest::prop_assert!(!ok || inside);
            proptest::prop_assert!(!(ok && matches!(act, Action::HandleCase | Action::EscalateCase | Action::ReadRegister | Action::WriteRegister)));
        }

        /// A grid worker scoped to micro-grid `mine` never acts on a case of
        /// another micro-grid, whatever the place and the action.
        #[test]
        fn grid_workers_never_handle_another_micro_grid(
            mine in 0u8..4,
            theirs in proptest::option::of(0u8..4),
            target in proptest::collection::vec(0u8..3, 0..7),
            act_i in 0usize..4,
        ) {
            let act = [Action::HandleCase, Action::VerifyCase, Action::ReadCases, Action::EscalateCase][act_i];
            let a = actor(vec![Grant { role: Role::GridWorker, scope: vec![], grid: Some(format!("g{mine}")) }]);
            let target: Vec<String> = target.iter().map(|b| format!("p{b}")).collect();
            let case_grid = theirs.map(|t| format!("g{t}"));
            let ok = authorize_case(&a, act, Target { path: &target }, case_grid.as_deref()).is_ok();
            proptest::prop_assert_eq!(ok, theirs == Some(mine));
        }
    }

    #[test]
    fn granting() {
        let staff = actor(vec![g(Role::CommunityStaff, &["d", "s", "c"])]);
        assert!(authorize_grant(&staff, Role::GridWorker, &p(&["d", "s", "c", "A"])).is_ok());
        assert!(authorize_grant(&staff, Role::GridWorker, &p(&["d", "s", "c2"])).is_err());
        assert!(authorize_grant(&staff, Role::Admin, &p(&["d", "s", "c", "A"])).is_err());
        let admin = actor(vec![g(Role::Admin, &[])]);
        assert!(authorize_grant(&admin, Role::Admin, &p(&[])).is_ok());
    }
}
