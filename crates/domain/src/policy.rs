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
}

impl Role {
    fn allows(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match self {
            Admin => true,
            StreetAdmin | CommunityStaff => true,
            GridWorker => matches!(action, ReadStructure | ReadRegister | RecordBallots),
            CommitteeMember => matches!(action, ReadStructure | ReadRegister | ReadAudit | ManageVotes | RecordBallots),
            Supervisor | BranchSecretary => matches!(action, ReadStructure | ReadRegister | ReadAudit),
            Steward => matches!(action, ReadStructure | ReadRegister),
            Auditor => matches!(action, ReadStructure | ReadAudit),
            Owner | Resident => matches!(action, ReadStructure),
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
            (Some(grid), Role::GridWorker) if action == Action::ReadRegister => grids.push(grid.clone()),
            _ => return Ok(Access::Full),
        }
    }
    if !grids.is_empty() {
        grids.sort();
        grids.dedup();
        return Ok(Access::Grids(grids));
    }
    Err(Denied(format!("not allowed to {} here", action_name(action))))
}

/// Decides whether `actor` may grant `role` over the place at `path`: they must
/// manage access over it, and only administrators grant administrators.
pub fn authorize_grant(actor: &Actor, role: Role, path: &[String]) -> Result<(), Denied> {
    authorize(actor, Action::ManageAccess, Target { path })?;
    if role.admin_only() && !actor.grants.iter().any(|g| g.role == Role::Admin && g.scope.is_empty()) {
        return Err(Denied("only an administrator may grant the admin role".into()));
    }
    Ok(())
}

/// True when the actor holds any grant at or below `path` or above it: used to
/// decide whether a place may even be named to them (it is in their world).
pub fn can_see_place(actor: &Actor, path: &[String]) -> bool {
    actor.grants.iter().any(|g| covers(&g.scope, path) || covers(path, &g.scope))
}

/// The roles `actor` holds over the place at `path` (grants at or above it).
pub fn roles_over(actor: &Actor, path: &[String]) -> Vec<Role> {
    let mut out: Vec<Role> = actor.grants.iter().filter(|g| covers(&g.scope, path)).map(|g| g.role).collect();
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }
    fn actor(grants: Vec<Grant>) -> Actor {
        Actor { user_id: "u".into(), grants }
    }
    fn g(role: Role, scope: &[&str]) -> Grant {
        Grant { role, scope: p(scope), grid: None }
    }

    #[test]
    fn denied_by_default() {
        let a = actor(vec![]);
        for act in [Action::ReadStructure, Action::ReadRegister, Action::WriteRegister, Action::ManageAccess] {
            assert!(authorize(&a, act, Target { path: &p(&["d"]) }).is_err());
        }
    }

    #[test]
    fn scope_covers_only_below() {
        let a = actor(vec![g(Role::CommitteeMember, &["d", "s", "c", "A"])]);
        let in_a = p(&["d", "s", "c", "A", "b1"]);
        let in_b = p(&["d", "s", "c", "B", "b1"]);
        let above = p(&["d", "s", "c"]);
        assert_eq!(authorize(&a, Action::ReadRegister, Target { path: &in_a }), Ok(Access::Full));
        assert!(authorize(&a, Action::ReadRegister, Target { path: &in_b }).is_err());
        assert!(authorize(&a, Action::ReadRegister, Target { path: &above }).is_err());
        assert!(authorize(&a, Action::WriteRegister, Target { path: &in_a }).is_err());
    }

    #[test]
    fn residents_are_not_staff() {
        let a = actor(vec![g(Role::Owner, &["d", "s", "c", "A"]), g(Role::Resident, &["d", "s", "c", "A"])]);
        let here = p(&["d", "s", "c", "A"]);
        assert!(authorize(&a, Action::ReadStructure, Target { path: &here }).is_ok());
        for act in [Action::ReadRegister, Action::WriteRegister, Action::ImportRoster, Action::ManageAccess, Action::ReadAudit, Action::ManageVotes, Action::RecordBallots] {
            assert!(authorize(&a, act, Target { path: &here }).is_err(), "{act:?}");
        }
    }

    #[test]
    fn grid_workers_see_their_grid() {
        let a = actor(vec![Grant { role: Role::GridWorker, scope: p(&["d", "s", "c", "A"]), grid: Some("g12".into()) }]);
        let here = p(&["d", "s", "c", "A", "b"]);
        assert_eq!(authorize(&a, Action::ReadRegister, Target { path: &here }), Ok(Access::Grids(vec!["g12".into()])));
        assert_eq!(authorize(&a, Action::ReadStructure, Target { path: &here }), Ok(Access::Full));
    }

    #[test]
    fn votes_are_managed_by_staff_and_committee_ballots_recorded_by_grid_workers() {
        let here = p(&["d", "s", "c", "A", "b6"]);
        let other = p(&["d", "s", "c", "B"]);
        let committee = actor(vec![g(Role::CommitteeMember, &["d", "s", "c", "A"])]);
        assert_eq!(authorize(&committee, Action::ManageVotes, Target { path: &here }), Ok(Access::Full));
        assert!(authorize(&committee, Action::ManageVotes, Target { path: &other }).is_err());
        let w = actor(vec![Grant { role: Role::GridWorker, scope: p(&["d", "s", "c", "A"]), grid: Some("g1".into()) }]);
        assert_eq!(authorize(&w, Action::RecordBallots, Target { path: &here }), Ok(Access::Full));
        assert!(authorize(&w, Action::RecordBallots, Target { path: &other }).is_err());
        assert!(authorize(&w, Action::ManageVotes, Target { path: &here }).is_err());
        for r in [Role::Steward, Role::Auditor, Role::Supervisor, Role::Owner] {
            let a = actor(vec![g(r, &["d", "s", "c", "A"])]);
            assert!(authorize(&a, Action::RecordBallots, Target { path: &here }).is_err(), "{r:?}");
            assert!(authorize(&a, Action::ManageVotes, Target { path: &here }).is_err(), "{r:?}");
        }
    }

    #[test]
    fn roles_over_a_place() {
        let a = actor(vec![g(Role::Owner, &["d", "s", "c", "A"]), g(Role::GridWorker, &["d", "s", "c"]), g(Role::CommitteeMember, &["d", "s", "c", "B"])]);
        assert_eq!(roles_over(&a, &p(&["d", "s", "c", "A", "b"])), vec![Role::GridWorker, Role::Owner]);
        assert_eq!(roles_over(&a, &p(&["d", "s"])), vec![]);
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
