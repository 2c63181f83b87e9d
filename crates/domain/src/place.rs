//! The register's vocabulary: the place hierarchy, exclusive parts, owners of
//! record, grids and organisations.

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($s => Some($name::$variant),)+ _ => None }
            }
            /// The accepted spellings, for error messages.
            pub fn choices() -> String { [$($s),+].join(", ") }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use str_enum;

str_enum!(
    /// Levels of the place hierarchy, from the top: district 区 → street/town
    /// 街道/镇 → community 社区 → compound 小区 → building 楼栋 → unit 单元.
    /// Exclusive parts hang below a building or a unit.
    PlaceKind { District = "district", Street = "street", Community = "community", Compound = "compound", Building = "building", Unit = "unit" }
);

impl PlaceKind {
    /// Depth in the hierarchy (district = 0).
    pub fn depth(self) -> usize {
        PlaceKind::ALL
            .iter()
            .position(|k| *k == self)
            .expect("every kind is in ALL")
    }
    /// The kind a child of this place must have; `None` for units (parts hang there).
    pub fn child(self) -> Option<PlaceKind> {
        PlaceKind::ALL.get(self.depth() + 1).copied()
    }
    /// The kind of this place's parent; `None` for a district.
    pub fn parent(self) -> Option<PlaceKind> {
        self.depth().checked_sub(1).map(|d| PlaceKind::ALL[d])
    }
}

str_enum!(
    /// What an exclusive part 专有部分 is.
    PartKind { Flat = "flat", Shop = "shop", Parking = "parking" }
);

str_enum!(
    /// Where a part's area comes from. The Supreme People's Court interpretation
    /// on building ownership, art. 8: registered area, else surveyed, else contract.
    AreaBasis { Registered = "registered", Surveyed = "surveyed", Contract = "contract" }
);

impl AreaBasis {
    /// Lower is better evidence (registered first).
    pub fn rank(self) -> u8 {
        match self {
            AreaBasis::Registered => 0,
            AreaBasis::Surveyed => 1,
            AreaBasis::Contract => 2,
        }
    }
}

str_enum!(
    /// Who the owner of record is. All of a developer's unsold parts are one
    /// owner (interpretation art. 9), and so are all parts of one buyer.
    OwnerKind { Person = "person", CoOwners = "co_owners", Company = "company", Developer = "developer" }
);

str_enum!(
    /// How a resident relates to the part they live in.
    ResidentRelation { Owner = "owner", Tenant = "tenant", Family = "family" }
);

str_enum!(
    /// The grid overlay (Chengdu 微网实格): community grid → compound grid → micro-grid.
    GridKind { Community = "community", Compound = "compound", Micro = "micro" }
);

impl GridKind {
    /// The grid kind this kind nests under (community grids are the top).
    pub fn parent_kind(self) -> Option<GridKind> {
        match self {
            GridKind::Community => None,
            GridKind::Compound => Some(GridKind::Community),
            GridKind::Micro => Some(GridKind::Compound),
        }
    }

    /// Checks where a new grid lies: a community grid over a community, a
    /// compound grid over a compound, a micro-grid over a compound or one of
    /// its buildings; and that its parent grid (`parent`: `None` when none was
    /// given, else the given parent's kind) is of the kind one level up.
    /// Returns the field that is wrong and why.
    pub fn check_placement(
        self,
        place: PlaceKind,
        parent: Option<GridKind>,
    ) -> Result<(), (&'static str, String)> {
        let want_place = match self {
            GridKind::Community => PlaceKind::Community,
            GridKind::Compound | GridKind::Micro => PlaceKind::Compound,
        };
        let ok_place =
            place == want_place || (self == GridKind::Micro && place == PlaceKind::Building);
        if !ok_place {
            return Err((
                "place_id",
                format!("a {self} grid lies over a {want_place}, not a {place}"),
            ));
        }
        match (self.parent_kind(), parent) {
            (None, Some(_)) => Err(("parent_id", "a community grid has no parent grid".into())),
            (Some(w), None) => Err(("parent_id", format!("a {self} grid needs its {w} grid"))),
            (Some(w), Some(p)) if p != w => Err((
                "parent_id",
                format!("the parent of a {self} grid must be a {w} grid, not a {p} grid"),
            )),
            _ => Ok(()),
        }
    }
}

/// A micro-grid serves 30–100 households; outside that range the register warns.
pub const MICRO_GRID_MIN_HOUSEHOLDS: usize = 30;
pub const MICRO_GRID_MAX_HOUSEHOLDS: usize = 100;

/// The warning for a micro-grid of `households` households, if any.
pub fn micro_grid_size_warning(households: usize) -> Option<String> {
    if households < MICRO_GRID_MIN_HOUSEHOLDS {
        Some(format!(
            "micro-grid has {households} households, fewer than {MICRO_GRID_MIN_HOUSEHOLDS}"
        ))
    } else if households > MICRO_GRID_MAX_HOUSEHOLDS {
        Some(format!(
            "micro-grid has {households} households, more than {MICRO_GRID_MAX_HOUSEHOLDS}"
        ))
    } else {
        None
    }
}

str_enum!(
    /// Organisations of a compound and above it.
    OrgKind {
        StreetPartyCommittee = "street_party_committee",
        CommunityPartyCommittee = "community_party_committee",
        CompoundBranch = "compound_branch",
        BuildingPartyGroup = "building_party_group",
        OwnersCommittee = "owners_committee",
        PropertyManagementCommittee = "property_management_committee",
        Steward = "steward",
        SupervisionGroup = "supervision_group",
        MediationCommittee = "mediation_committee",
        PartnerUnit = "partner_unit",
        CoGovernanceTeam = "co_governance_team",
        ResidentsCommittee = "residents_committee",
        EmployerUnit = "employer_unit",
    }
);

impl OrgKind {
    /// The party overlay's parent kind (Bishan's four levels), if this is a party body.
    pub fn party_parent(self) -> Option<OrgKind> {
        match self {
            OrgKind::CommunityPartyCommittee => Some(OrgKind::StreetPartyCommittee),
            OrgKind::CompoundBranch => Some(OrgKind::CommunityPartyCommittee),
            OrgKind::BuildingPartyGroup => Some(OrgKind::CompoundBranch),
            _ => None,
        }
    }
    /// The place kind an organisation of this kind is anchored on.
    pub fn anchor(self) -> PlaceKind {
        match self {
            OrgKind::StreetPartyCommittee => PlaceKind::Street,
            OrgKind::CommunityPartyCommittee
            | OrgKind::ResidentsCommittee
            | OrgKind::MediationCommittee => PlaceKind::Community,
            OrgKind::BuildingPartyGroup => PlaceKind::Building,
            OrgKind::PartnerUnit => PlaceKind::Community,
            // 工作单位: where in-service party members work; receives their
            // check-in receipts and contribution records
            OrgKind::EmployerUnit => PlaceKind::District,
            _ => PlaceKind::Compound,
        }
    }
}

str_enum!(
    /// Roles inside an organisation.
    MemberRole {
        Secretary = "secretary",
        DeputySecretary = "deputy_secretary",
        Chair = "chair",
        ViceChair = "vice_chair",
        Member = "member",
        Manager = "manager",
        Staff = "staff",
        Supervisor = "supervisor",
        Mediator = "mediator",
        ChiefConvener = "chief_convener",
        ViceConvener = "vice_convener",
        BuildingConvener = "building_convener",
    }
);

str_enum!(
    /// Qijiang's five-member co-governance team: each member is one of five types.
    FiveMemberType {
        InServicePartyMember = "in_service_party_member",
        CommunityCommitteeMember = "community_committee_member",
        GridWorker = "grid_worker",
        PropertyStaff = "property_staff",
        OwnersCommitteeMember = "owners_committee_member",
    }
);

/// Checks a membership against its organisation's kind. Returns what is wrong.
pub fn check_membership(
    org: OrgKind,
    role: MemberRole,
    five_type: Option<FiveMemberType>,
    building_given: bool,
    term: (i64, Option<i64>),
) -> Result<(), String> {
    let team_role = matches!(
        role,
        MemberRole::ChiefConvener | MemberRole::ViceConvener | MemberRole::BuildingConvener
    );
    if org == OrgKind::CoGovernanceTeam {
        if !(team_role || role == MemberRole::Member) {
            return Err(format!("role: a co-governance team member is chief_convener, vice_convener, member or building_convener, not {role}"));
        }
        if five_type.is_none() {
            return Err(
                "member_type: a co-governance team member must be one of the five types".into(),
            );
        }
    } else {
        if team_role {
            return Err(format!("role: {role} exists only in a co_governance_team"));
        }
        if five_type.is_some() {
            return Err(
                "member_type: only co-governance team members have a five-member type".into(),
            );
        }
    }
    if role == MemberRole::BuildingConvener && !building_given {
        return Err("building_id: a building convener needs the building they convene".into());
    }
    if let (start, Some(end)) = term {
        if end <= start {
            return Err("term_end: the term ends before it starts".into());
        }
    }
    Ok(())
}

/// Makes a stable, URL-safe code from a name already in Latin letters
/// ("Jingcheng Mingdian" → "jingcheng-mingdian"). Non-ASCII names get their
/// code from the caller (e.g. pinyin) or from a hash.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !out.is_empty() && !dash {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

// Materialised id paths (`/a/b/c/`: each place's ancestors' ids and its own).

/// The half-open range of materialised paths below (and including) `path`:
/// `[path, path-without-slash + "0")`, since '0' follows '/'. A range, unlike a
/// prefix pattern match, uses the path index on SQLite and PostgreSQL alike.
pub fn subtree(path: &str) -> (String, String) {
    let hi = format!("{}0", path.strip_suffix('/').unwrap_or(path));
    (path.to_string(), hi)
}

/// The place ids of a materialised path `/a/b/c/`, from the top.
pub fn path_ids(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_placement() {
        use GridKind::*;
        assert_eq!(
            Community.check_placement(PlaceKind::Community, None),
            Ok(())
        );
        assert_eq!(
            Compound.check_placement(PlaceKind::Compound, Some(Community)),
            Ok(())
        );
        assert_eq!(
            Micro.check_placement(PlaceKind::Compound, Some(Compound)),
            Ok(())
        );
        assert_eq!(
            Micro.check_placement(PlaceKind::Building, Some(Compound)),
            Ok(())
        );
        // wrong place
        let e = Compound
            .check_placement(PlaceKind::Building, Some(Community))
            .unwrap_err();
        assert_eq!(e.0, "place_id");
        assert!(e.1.contains("over a compound, not a building"), "{}", e.1);
        assert_eq!(
            Micro
                .check_placement(PlaceKind::Unit, Some(Compound))
                .unwrap_err()
                .0,
            "place_id"
        );
        assert_eq!(
            Community
                .check_placement(PlaceKind::Street, None)
                .unwrap_err()
                .0,
            "place_id"
        );
        // wrong or missing parent
        let e = Community
            .check_placement(PlaceKind::Community, Some(Community))
            .unwrap_err();
        assert_eq!(
            e,
            (
                "parent_id",
                "a community grid has no parent grid".to_string()
            )
        );
        let e = Micro
            .check_placement(PlaceKind::Compound, None)
            .unwrap_err();
        assert_eq!(
            e,
            (
                "parent_id",
                "a micro grid needs its compound grid".to_string()
            )
        );
        let e = Micro
            .check_placement(PlaceKind::Compound, Some(Community))
            .unwrap_err();
        assert_eq!(e.0, "parent_id");
        assert!(
            e.1.contains("must be a compound grid, not a community grid"),
            "{}",
            e.1
        );
    }

    #[test]
    fn hierarchy() {
        assert_eq!(PlaceKind::District.child(), Some(PlaceKind::Street));
        assert_eq!(PlaceKind::Unit.child(), None);
        assert_eq!(PlaceKind::Compound.parent(), Some(PlaceKind::Community));
        assert_eq!(PlaceKind::District.parent(), None);
        assert_eq!(PlaceKind::parse("building"), Some(PlaceKind::Building));
        assert_eq!(PlaceKind::parse("tower"), None);
    }

    #[test]
    fn grid_warnings() {
        assert!(micro_grid_size_warning(29).is_some());
        assert!(micro_grid_size_warning(30).is_none());
        assert!(micro_grid_size_warning(100).is_none());
        assert!(micro_grid_size_warning(101).is_some());
    }

    #[test]
    fn memberships() {
        use FiveMemberType::*;
        assert!(check_membership(
            OrgKind::CoGovernanceTeam,
            MemberRole::ChiefConvener,
            Some(InServicePartyMember),
            false,
            (0, None)
        )
        .is_ok());
        assert!(check_membership(
            OrgKind::CoGovernanceTeam,
            MemberRole::ViceConvener,
            None,
            false,
            (0, None)
        )
        .unwrap_err()
        .starts_with("member_type"));
        assert!(check_membership(
            OrgKind::CoGovernanceTeam,
            MemberRole::BuildingConvener,
            Some(GridWorker),
            false,
            (0, None)
        )
        .unwrap_err()
        .starts_with("building_id"));
        assert!(check_membership(
            OrgKind::OwnersCommittee,
            MemberRole::ChiefConvener,
            None,
            false,
            (0, None)
        )
        .unwrap_err()
        .starts_with("role"));
        assert!(check_membership(
            OrgKind::OwnersCommittee,
            MemberRole::Chair,
            None,
            false,
            (10, Some(5))
        )
        .unwrap_err()
        .starts_with("term_end"));
        assert_eq!(
            OrgKind::BuildingPartyGroup.party_parent(),
            Some(OrgKind::CompoundBranch)
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Jingcheng Mingdian"), "jingcheng-mingdian");
        assert_eq!(slugify("  A--B  "), "a-b");
    }
}
