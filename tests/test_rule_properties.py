"""The composed security verdict equals a brute-force reading of the documented semantics.

ODOO-SEMANTICS.md, "Access rights" and "Record rules", read literally:

- effective groups: the transitive closure of the user's groups over ``implied_ids``;
- access right for an operation: some row grants it, with no group (everyone) or with
  a group of the closure; no such row, no access (rows can also be inactive, as in
  Odoo: those grant nothing);
- record rules for (user, operation): the active rules whose ``perm_<operation>`` is
  set; the global ones (no group) must all match; of the group ones whose groups meet
  the closure, at least one must match, if there is any; no rule, no restriction.

The property test builds random groups (an acyclic ``implied_ids`` graph), 1-3
internal users, access rights, rules and 5-15 items on ``test.item`` in a transaction
that is rolled back afterwards, computes that verdict in plain Python (rule domains
are built here as lists, with the user's values substituted by hand, and matched with
the reference evaluator ``bastion.domain``), and compares it with Bastion's ``search``,
``has_access``/``check_access`` (each record about two of the four operations, in
rotation), and a create, a write and an unlink by one of the users.

The explicit tests below pin the corner cases the semantics page names.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion import AccessError, Command, Registry
from bastion.domain import filter_ids, matches, parse_domain
from bastion.orm.environment import Environment
from pg import PostgresServer, unique_database_name

OPS = ("read", "write", "create", "unlink")
EXAMPLES = 200  # per backend
USER_GROUP = "user"  # GroupRef of base.group_user
ITEM = "test.item"
ADDONS = Path(__file__).parent / "addons"

Data = dict[str, dict[int, dict[str, object]]]  # the reference evaluator's dataset

# A group reference in a scenario: the index of a generated group, USER_GROUP for
# base.group_user, or None (an access row for everyone).
GroupRef = int | str | None
T = TypeVar("T")


class Rollback(Exception):
    """Raised at the end of an example to undo all of its data."""


def ref_id(env: Environment, xmlid: str) -> int:
    record = env.ref(xmlid)
    assert record is not None
    return int(record.id)


# -- the fixed data of a run (committed once per database) -----------------------------
@dataclass(frozen=True)
class Base:
    item_model: int
    group_user: int
    group_portal: int
    main: int
    other_company: int
    users: tuple[int, int, int]
    user_partners: tuple[int, int, int]
    # the commercial partner of each user, as built here (not read back)
    user_commercial: tuple[int, int, int]
    user_companies: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    partner_company: int
    partner_child: int
    partner_other: int
    partner_parents: Mapping[int, int | None]
    tags: tuple[int, int]
    cat_root: int
    cat_mid: int
    cat_leaf: int
    category_parents: Mapping[int, int | None]

    @property
    def partners(self) -> list[int]:
        return sorted(self.partner_parents)


def setup_base(reg: Registry) -> Base:
    """Companies, partners, three internal users, tags, categories; and no access
    right at all on test.item (test_catalog's own rows are deleted)."""
    with reg.transaction() as env:
        item_model = ref_id(env, "test_catalog.model_test_item")
        env["ir.model.access"].search(
            [("model_id", "=", item_model), ("active", "in", [True, False])]
        ).unlink()
        group_user = ref_id(env, "base.group_user")
        group_portal = ref_id(env, "base.group_portal")
        main = ref_id(env, "base.main_company")
        other = env["res.company"].create({"name": "Other Co"}).id
        partner_company = env["res.partner"].create({"name": "Corp", "is_company": True}).id
        p0 = env["res.partner"].create({"name": "U0"}).id
        p1 = env["res.partner"].create({"name": "U1"}).id
        p2 = env["res.partner"].create({"name": "U2", "parent_id": partner_company}).id
        child = env["res.partner"].create({"name": "U0 child", "parent_id": p0}).id
        stranger = env["res.partner"].create({"name": "Stranger"}).id
        companies = ((main,), (main, other), (main,))
        users = []
        for index, (partner, allowed) in enumerate(zip((p0, p1, p2), companies, strict=True)):
            user = env["res.users"].create(
                {
                    "login": f"prop{index}",
                    "name": f"Prop {index}",
                    "partner_id": partner,
                    "group_ids": [Command.link(group_user)],
                    "company_id": main,
                    "company_ids": [Command.set(list(allowed))],
                }
            )
            users.append(user.id)
        tags = env["test.tag"].create([{"name": "t1"}, {"name": "t2"}]).ids
        root = env["test.category"].create({"name": "root"}).id
        mid = env["test.category"].create({"name": "mid", "parent_id": root}).id
        leaf = env["test.category"].create({"name": "leaf", "parent_id": mid}).id
    return Base(
        item_model=item_model,
        group_user=group_user,
        group_portal=group_portal,
        main=main,
        other_company=other,
        users=(users[0], users[1], users[2]),
        user_partners=(p0, p1, p2),
        user_commercial=(p0, p1, partner_company),
        user_companies=companies,
        partner_company=partner_company,
        partner_child=child,
        partner_other=stranger,
        partner_parents={
            partner_company: None,
            p0: None,
            p1: None,
            p2: partner_company,
            child: p0,
            stranger: None,
        },
        tags=(tags[0], tags[1]),
        cat_root=root,
        cat_mid=mid,
        cat_leaf=leaf,
        category_parents={root: None, mid: root, leaf: mid},
    )


# -- rule domains: the text Bastion reads, and the list the oracle builds --------------
@dataclass(frozen=True)
class UserValues:
    partner: int
    commercial: int
    companies: tuple[int, ...]


@dataclass(frozen=True)
class RuleText:
    text: str
    domain: Callable[[UserValues], list[object]]


def rule_pool(base: Base) -> list[RuleText]:
    t1, mid = base.tags[0], base.cat_mid
    return [
        RuleText(
            "[('partner_id', '=', user.partner_id.id)]",
            lambda u: [("partner_id", "=", u.partner)],
        ),
        RuleText("[('quantity', '>', 2)]", lambda u: [("quantity", ">", 2)]),
        RuleText(
            "['|', ('state', '=', 'done'), ('flag', '=', True)]",
            lambda u: ["|", ("state", "=", "done"), ("flag", "=", True)],
        ),
        RuleText(
            "[('company_id', 'in', company_ids)]",
            lambda u: [("company_id", "in", list(u.companies))],
        ),
        RuleText("[(1, '=', 1)]", lambda u: [(1, "=", 1)]),
        RuleText("[(0, '=', 1)]", lambda u: [(0, "=", 1)]),
        RuleText(
            "[('partner_id', 'child_of', [user.commercial_partner_id.id])]",
            lambda u: [("partner_id", "child_of", [u.commercial])],
        ),
        RuleText(
            f"['|', ('tag_ids', 'in', [{t1}]), ('category_id', 'child_of', [{mid}])]",
            lambda u: ["|", ("tag_ids", "in", [t1]), ("category_id", "child_of", [mid])],
        ),
        RuleText(
            "['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
            lambda u: ["|", ("company_id", "=", False), ("company_id", "=", u.companies[0])],
        ),
        RuleText(
            "['!', ('price', '<', 10.0), ('name', 'ilike', 'a')]",
            lambda u: ["!", ("price", "<", 10.0), ("name", "ilike", "a")],
        ),
        # Constants PostgreSQL's statement holds as written, beside one it cannot
        # (a quote): SqlCompiler._written.
        RuleText(
            "['|', ('name', '=', \"O'Hara\"), '&', ('state', 'in', ['draft', 'cancel']), "
            "('quantity', '!=', 0)]",
            lambda u: [
                "|",
                ("name", "=", "O'Hara"),
                "&",
                ("state", "in", ["draft", "cancel"]),
                ("quantity", "!=", 0),
            ],
        ),
    ]


# -- scenarios ------------------------------------------------------------------------
Vals = dict[str, object]  # item values: m2o as id or None, tag_ids as a tuple of ids


@dataclass(frozen=True)
class AclSpec:
    group: GroupRef
    perms: frozenset[str]
    active: bool


@dataclass(frozen=True)
class RuleSpec:
    domain: int
    groups: frozenset[GroupRef]  # empty: global
    perms: frozenset[str]
    active: bool


@dataclass(frozen=True)
class UserCase:
    index: int  # which of Base.users
    direct: frozenset[int]  # generated groups given to the user directly
    # How the user gets them: through res.users.group_ids (True), which then also says
    # whether base.group_user is direct; or through res.groups.user_ids when the groups
    # are created (False), the user keeping the base.group_user it was created with.
    via_user_write: bool
    group_user_direct: bool


@dataclass(frozen=True)
class Actions:
    """What one of the scenario's users tries to change (each attempt is undone)."""

    user: int  # index into Scenario.users
    create_vals: Vals
    write_target: int  # index into the scenario's items
    write_vals: Vals
    unlink_target: int


@dataclass(frozen=True)
class Scenario:
    implied: tuple[frozenset[GroupRef], ...]  # per generated group
    users: tuple[UserCase, ...]
    acls: tuple[AclSpec, ...]
    rules: tuple[RuleSpec, ...]
    items: tuple[Vals, ...]
    actions: Actions


def item_choices(base: Base, companies: Sequence[int | None]) -> list[tuple[str, list[object]]]:
    """The values each item field takes; the first of each is the simplest."""
    return [
        ("active", [True, True, True, False]),
        ("name", [None, "alpha", "Beta", "gamma", "zed", "O'Hara"]),
        ("quantity", [None, -1, 0, 1, 2, 3, 5]),
        ("price", [None, 0.0, 5.5, 10.0, 20.0]),
        ("state", [None, "draft", "done", "cancel"]),
        ("flag", [None, True, False]),
        ("partner_id", [None, *base.partners]),
        ("company_id", list(companies)),
        ("category_id", [None, base.cat_root, base.cat_mid, base.cat_leaf]),
        ("tag_ids", [(), (), (base.tags[0],), (base.tags[1],), base.tags]),
    ]


def item_values(base: Base, companies: Sequence[int | None]) -> st.SearchStrategy[Vals]:
    """Item values, drawn as one integer read in mixed radix (one draw per item
    keeps generation cheap; it shrinks towards the simplest values)."""
    choices = item_choices(base, companies)
    size = 1
    for _name, values in choices:
        size *= len(values)

    def decode(number: int) -> Vals:
        vals: Vals = {}
        for name, values in choices:
            number, index = divmod(number, len(values))
            vals[name] = values[index]
        return vals

    return st.integers(0, size - 1).map(decode)


def bits(mask: int, choices: Sequence[T]) -> frozenset[T]:
    """The choices whose bit is set in ``mask``."""
    return frozenset(c for n, c in enumerate(choices) if mask >> n & 1)


def perms_of(mask: int) -> frozenset[str]:
    return frozenset(op for n, op in enumerate(OPS) if mask >> n & 1)


@st.composite
def scenarios(draw: st.DrawFn, base: Base, pool_size: int) -> Scenario:
    n_groups = draw(st.integers(4, 7))
    # Edges only from a higher to a lower index: acyclic. Some groups imply group_user;
    # none implies portal, so every user stays purely internal.
    implied = tuple(
        bits(draw(st.integers(0, 2 ** (i + 1) - 1)), [*range(i), USER_GROUP])
        for i in range(n_groups)
    )
    group_refs: list[GroupRef] = [*range(n_groups), USER_GROUP]
    all_items_companies = [None, base.main, base.other_company]
    items = tuple(draw(st.lists(item_values(base, all_items_companies), min_size=5, max_size=15)))
    n_items = len(items)
    users = []
    for index in draw(st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=3, unique=True)):
        direct = bits(draw(st.integers(0, 2**n_groups - 1)), range(n_groups))
        via_user_write = draw(st.booleans())
        # internal users only: base.group_user direct, or reached through implied_ids
        group_user_direct = not via_user_write or draw(st.booleans())
        if USER_GROUP not in closure(implied, frozenset[GroupRef](direct)):
            group_user_direct = True
        users.append(
            UserCase(
                index=index,
                direct=direct,
                via_user_write=via_user_write,
                group_user_direct=group_user_direct,
            )
        )
    actor = draw(st.integers(0, len(users) - 1))
    # Values the actor may point at: its own companies (pointing a many2one at a
    # record the user cannot read is refused for another reason than the rules).
    allowed: list[int | None] = [None, *base.user_companies[users[actor].index]]
    write_all = draw(item_values(base, allowed))
    keys = bits(draw(st.integers(1, 2 ** len(write_all) - 1)), sorted(write_all))
    actions = Actions(
        user=actor,
        create_vals=draw(item_values(base, allowed)),
        write_target=draw(st.integers(0, n_items - 1)),
        write_vals={k: v for k, v in write_all.items() if k in keys},
        unlink_target=draw(st.integers(0, n_items - 1)),
    )
    acl_groups: list[GroupRef] = [None, *group_refs]
    # perms: a mask of OPS, all four once in two (so that the rules get exercised)
    acls = [
        AclSpec(acl_groups[group], perms_of(mask if mask < 16 else 15), active > 0)
        for group, mask, active in draw(
            st.lists(
                st.tuples(
                    st.integers(0, len(acl_groups) - 1), st.integers(0, 31), st.integers(0, 3)
                ),
                max_size=5,
            )
        )
    ]
    # A rule's groups: none (global), or one or two of the groups.
    group_sets = [frozenset[GroupRef]()] + [
        frozenset({a, b}) for n, a in enumerate(group_refs) for b in group_refs[n:]
    ]
    rules = [
        RuleSpec(domain, group_sets[groups if kind else 0], perms_of(mask), active > 0)
        for domain, kind, groups, mask, active in draw(
            st.lists(
                st.tuples(
                    st.integers(0, pool_size - 1),
                    st.integers(0, 2),  # 0: global
                    st.integers(1, len(group_sets) - 1),
                    st.integers(0, 15),
                    st.integers(0, 3),
                ),
                max_size=6,
            )
        )
    ]
    return Scenario(implied, tuple(users), tuple(acls), tuple(rules), items, actions)


# -- the oracle: ODOO-SEMANTICS.md, read literally -------------------------------------
def closure(implied: Sequence[frozenset[GroupRef]], direct: frozenset[GroupRef]) -> set[GroupRef]:
    """Transitive closure over ``implied`` (base.group_user implies nothing here)."""
    seen: set[GroupRef] = set()
    todo = list(direct)
    while todo:
        group = todo.pop()
        if group in seen:
            continue
        seen.add(group)
        if isinstance(group, int):
            todo.extend(implied[group])
    return seen


def acl_allows(acls: Sequence[AclSpec], groups: set[GroupRef], op: str) -> bool:
    return any(
        row.active and op in row.perms and (row.group is None or row.group in groups)
        for row in acls
    )


@dataclass
class Oracle:
    """The verdict of one user, from the scenario alone (no Bastion security code)."""

    reg: Registry
    base: Base
    pool: list[RuleText]
    scenario: Scenario
    case: UserCase
    data: Data
    groups: set[GroupRef] = field(init=False)
    user: UserValues = field(init=False)

    def __post_init__(self) -> None:
        direct = frozenset[GroupRef](self.case.direct)
        if self.case.group_user_direct:
            direct |= {USER_GROUP}
        self.groups = closure(self.scenario.implied, direct)
        assert USER_GROUP in self.groups  # an internal user
        i = self.case.index
        self.user = UserValues(
            self.base.user_partners[i], self.base.user_commercial[i], self.base.user_companies[i]
        )

    def acl(self, op: str) -> bool:
        return acl_allows(self.scenario.acls, self.groups, op)

    def rules(self, op: str) -> tuple[list[RuleSpec], list[RuleSpec]]:
        applicable = [r for r in self.scenario.rules if r.active and op in r.perms]
        global_rules = [r for r in applicable if not r.groups]
        group_rules = [r for r in applicable if r.groups & self.groups]
        return global_rules, group_rules

    def rule_matches(self, rule: RuleSpec, rid: int, data: Data) -> bool:
        spec = self.reg.model_info(ITEM)
        node = parse_domain(self.pool[rule.domain].domain(self.user), spec, self.reg)
        return matches(node, spec, rid, self.reg, data)

    def rule_set(self, rule: RuleSpec) -> set[int]:
        spec = self.reg.model_info(ITEM)
        node = parse_domain(self.pool[rule.domain].domain(self.user), spec, self.reg)
        return filter_ids(node, spec, self.reg, self.data)

    def allowed_ids(self, op: str) -> set[int]:
        """Ids of the snapshot the user may ``op``."""
        everything = set(self.data[ITEM])
        if not self.acl(op):
            return set()
        global_rules, group_rules = self.rules(op)
        result = everything
        for rule in global_rules:
            result &= self.rule_set(rule)
        if group_rules:
            granted: set[int] = set()
            for rule in group_rules:
                granted |= self.rule_set(rule)
            result &= granted
        return result

    def allows_values(self, op: str, values: Vals) -> bool:
        """The verdict on a record holding ``values`` (not in the database)."""
        if not self.acl(op):
            return False
        fake = -1
        data = dict(self.data)
        data[ITEM] = {fake: snapshot_row(values)}
        global_rules, group_rules = self.rules(op)
        if not all(self.rule_matches(r, fake, data) for r in global_rules):
            return False
        return not group_rules or any(self.rule_matches(r, fake, data) for r in group_rules)


def snapshot_row(values: Mapping[str, object]) -> dict[str, object]:
    row: dict[str, object] = {
        "name": None,
        "quantity": None,
        "price": None,
        "state": None,
        "flag": None,
        "active": True,
        "partner_id": None,
        "company_id": None,
        "category_id": None,
        "tag_ids": (),
    }
    row.update(values)
    return row


def orm_values(values: Mapping[str, object], *, for_create: bool) -> dict[str, object]:
    """Scenario values as create/write arguments (unset: omitted on create, False on write)."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key == "tag_ids":
            assert isinstance(value, tuple)
            if value or not for_create:
                out[key] = [Command.set(list(value))]
        elif value is None:
            if not for_create:
                out[key] = False
        else:
            out[key] = value
    return out


# -- running one example ----------------------------------------------------------------
@dataclass
class Counts:
    examples: int = 0
    triples: int = 0  # (user, operation, record) verdicts compared
    granted: int = 0
    denied: int = 0
    searches: int = 0
    attempts: int = 0  # creates, writes and unlinks tried
    succeeded: int = 0


def build(env: Environment, base: Base, pool: list[RuleText], sc: Scenario) -> list[int]:
    """Create the scenario's groups, memberships, rights, rules and items; item ids."""
    gids: dict[int, int] = {}  # generated group index -> id

    def gid(ref: GroupRef) -> int:
        if ref == USER_GROUP:
            return base.group_user
        assert isinstance(ref, int)
        return gids[ref]

    # Groups are created level by level (a group after those it implies), each level
    # in one batch; users who get their groups through res.groups.user_ids are linked
    # there.
    levels: list[int] = []
    for implied in sc.implied:
        levels.append(1 + max((levels[r] for r in implied if isinstance(r, int)), default=-1))
    for level in range(max(levels) + 1):
        batch = [index for index, lvl in enumerate(levels) if lvl == level]
        created = env["res.groups"].create(
            [
                {
                    "name": f"G{index}",
                    "implied_ids": [Command.set(sorted(gid(r) for r in sc.implied[index]))],
                    "user_ids": [
                        Command.set(
                            [
                                base.users[case.index]
                                for case in sc.users
                                if not case.via_user_write and index in case.direct
                            ]
                        )
                    ],
                }
                for index in batch
            ]
        )
        gids.update(zip(batch, created.ids, strict=True))
    for case in sc.users:
        if case.via_user_write:
            direct = [gid(r) for r in case.direct]
            if case.group_user_direct:
                direct.append(base.group_user)
            env["res.users"].browse(base.users[case.index]).write(
                {"group_ids": [Command.set(sorted(direct))]}
            )
    if sc.acls:
        env["ir.model.access"].create(
            [
                {
                    "name": f"acl {n}",
                    "model_id": base.item_model,
                    "group_id": False if acl.group is None else gid(acl.group),
                    "active": acl.active,
                    **{f"perm_{op}": op in acl.perms for op in OPS},
                }
                for n, acl in enumerate(sc.acls)
            ]
        )
    if sc.rules:
        env["ir.rule"].create(
            [
                {
                    "name": f"rule {n}",
                    "model_id": base.item_model,
                    "domain_force": pool[rule.domain].text,
                    "groups": [Command.set(sorted(gid(r) for r in rule.groups))],
                    "active": rule.active,
                    **{f"perm_{op}": op in rule.perms for op in OPS},
                }
                for n, rule in enumerate(sc.rules)
            ]
        )
    items = env[ITEM].create([orm_values(v, for_create=True) for v in sc.items])
    return items.ids


def snapshot(base: Base, ids: Sequence[int], items: Sequence[Vals]) -> Data:
    """The data the oracle reads, built from the scenario (not read back)."""
    return {
        ITEM: {rid: snapshot_row(v) for rid, v in zip(ids, items, strict=True)},
        "test.category": {cid: {"parent_id": p} for cid, p in base.category_parents.items()},
        "res.partner": {pid: {"parent_id": p} for pid, p in base.partner_parents.items()},
        "test.tag": {tid: {} for tid in base.tags},
    }


@contextmanager
def undone(env: Environment) -> Iterator[None]:
    """Run a block in a savepoint and undo it, whatever it did."""
    try:
        with env.savepoint():
            yield
            raise Rollback
    except Rollback:
        pass


def attempt(env: Environment, action: Callable[[], object]) -> bool:
    """Run ``action`` in a savepoint that is always undone: True if it succeeded,
    False if it raised AccessError (anything else propagates)."""
    done = False
    try:
        with undone(env):
            action()
            done = True
    except AccessError:
        return False
    return done


def check_user(
    env: Environment, oracle: Oracle, ids: list[int], counts: Counts, *, rotation: int
) -> None:
    """search, has_access and check_access of one user against the oracle."""
    items = env.with_user(oracle.base.users[oracle.case.index])[ITEM]
    data = oracle.data[ITEM]
    where = f"user {oracle.case.index} with groups {sorted(map(str, oracle.groups))}"

    # read: search injects the rules (and the active filter) into the SQL
    if oracle.acl("read"):
        expected = {rid for rid in oracle.allowed_ids("read") if data[rid]["active"]}
        assert set(items.search([]).ids) == expected, f"search as {where}"
        assert items.search_count([]) == len(expected), f"search_count as {where}"
    else:
        with pytest.raises(AccessError):
            items.search([])
    counts.searches += 1

    for index, op in enumerate(OPS):
        allowed = oracle.allowed_ids(op)
        for n, rid in enumerate(ids):
            # Each record is asked about two of the four operations, one through
            # has_access and one through check_access, in a rotation that moves on
            # with every user (all four would not fit the time budget).
            turn = (n + index + rotation) % 4
            if turn > 1:
                continue
            record = items.browse(rid)
            verdict = rid in allowed
            if turn:
                assert record.has_access(op) is verdict, f"has_access({op!r}) {rid} as {where}"
            elif verdict:
                record.check_access(op)
            else:
                with pytest.raises(AccessError):
                    record.check_access(op)
            counts.triples += 1
            counts.granted += verdict
            counts.denied += not verdict
        whole = items.browse(ids).has_access(op)
        assert whole is (allowed == set(ids)), f"has_access({op!r}) on all as {where}"


def check_actions(env: Environment, oracle: Oracle, ids: list[int], counts: Counts) -> None:
    """create, write and unlink as one user, each undone, against the oracle."""
    actions = oracle.scenario.actions
    items = env.with_user(oracle.base.users[oracle.case.index])[ITEM]
    where = f"user {oracle.case.index} with groups {sorted(map(str, oracle.groups))}"

    # create: the create rules are checked on the new record
    expected = oracle.allows_values("create", actions.create_vals)
    vals = orm_values(actions.create_vals, for_create=True)
    created = attempt(items.env, lambda: items.create(vals))
    assert created is expected, f"create {actions.create_vals} as {where}"

    # write: the record must pass the write rules before and after
    target = ids[actions.write_target]
    before = oracle.data[ITEM][target]
    after = {**before, **actions.write_vals}
    expected = target in oracle.allowed_ids("write") and oracle.allows_values("write", after)
    wvals = orm_values(actions.write_vals, for_create=False)
    written = attempt(items.env, lambda: items.browse(target).write(wvals))
    assert written is expected, f"write {actions.write_vals} on {before} as {where}"

    # unlink: checked before
    victim = ids[actions.unlink_target]
    deleted = attempt(items.env, lambda: items.browse(victim).unlink())
    assert deleted is (victim in oracle.allowed_ids("unlink")), f"unlink {victim} as {where}"

    counts.attempts += 3
    counts.succeeded += created + written + deleted


def run_example(
    reg: Registry, base: Base, pool: list[RuleText], sc: Scenario, counts: Counts
) -> None:
    try:
        with reg.transaction() as env:
            ids = build(env, base, pool, sc)
            data = snapshot(base, ids, sc.items)
            oracles = [Oracle(reg, base, pool, sc, case, data) for case in sc.users]
            for n, oracle in enumerate(oracles):
                check_user(env, oracle, ids, counts, rotation=n + counts.examples)
            # Last: each undone attempt makes Bastion reload the security data.
            check_actions(env, oracles[sc.actions.user], ids, counts)
            raise Rollback
    except Rollback:
        pass
    counts.examples += 1


def test_verdict_matches_documented_semantics(make_registry: Callable[..., Registry]) -> None:
    reg = make_registry("test_catalog")
    base = setup_base(reg)
    pool = rule_pool(base)
    counts = Counts()
    started = time.perf_counter()

    @settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        max_examples=EXAMPLES,
        deadline=None,
    )
    @given(sc=scenarios(base, len(pool)))
    def check(sc: Scenario) -> None:
        run_example(reg, base, pool, sc, counts)

    check()
    elapsed = time.perf_counter() - started
    print(f"\n{reg.dialect}: {counts} in {elapsed:.1f}s")  # shown with -s
    assert counts.examples >= EXAMPLES
    assert counts.triples >= 1000
    # Both verdicts occur often enough for the comparison to mean something.
    assert counts.granted > 200 and counts.denied > 200
    assert 0 < counts.succeeded < counts.attempts
    # Examples never saw each other's data: everything was rolled back.
    with reg.transaction() as env:
        assert not env[ITEM].search([("active", "in", [True, False])])
        assert not env["ir.rule"].search([("model_id", "=", base.item_model)])
        assert not env["ir.model.access"].search([("model_id", "=", base.item_model)])


# -- the corner cases, one by one -------------------------------------------------------
@dataclass
class Corner:
    """A fresh catalog database without access rights on test.item, one internal user
    and a tag; helpers to add groups, rights, rules and items."""

    reg: Registry
    item_model: int
    group_user: int
    group_portal: int
    main: int
    uid: int
    tag: int

    @contextmanager
    def transaction(self) -> Iterator[Environment]:
        """A superuser environment in a transaction that is always rolled back."""
        try:
            with self.reg.transaction() as env:
                yield env
                raise Rollback
        except Rollback:
            pass

    @classmethod
    def setup(cls, reg: Registry) -> Corner:
        with reg.transaction() as env:
            item_model = ref_id(env, "test_catalog.model_test_item")
            env["ir.model.access"].search([("model_id", "=", item_model)]).unlink()
            group_user = ref_id(env, "base.group_user")
            main = ref_id(env, "base.main_company")
            user = env["res.users"].create(
                {
                    "login": "corner",
                    "name": "Corner",
                    "group_ids": [Command.link(group_user)],
                    "company_id": main,
                    "company_ids": [Command.set([main])],
                }
            )
            return cls(
                reg,
                item_model,
                group_user,
                ref_id(env, "base.group_portal"),
                main,
                user.id,
                env["test.tag"].create({"name": "t"}).id,
            )

    def group(self, env: Environment, name: str, implied: Sequence[int] = ()) -> int:
        vals = {"name": name, "implied_ids": [Command.set(list(implied))]}
        return int(env["res.groups"].create(vals).id)

    def acl(self, env: Environment, group: int | None, perms: str = "rwcu") -> None:
        env["ir.model.access"].create(
            {
                "name": f"acl {group} {perms}",
                "model_id": self.item_model,
                "group_id": group or False,
                **{f"perm_{op}": op[0] in perms for op in OPS},
            }
        )

    def rule(
        self,
        env: Environment,
        domain: str,
        groups: Sequence[int] = (),
        perms: str = "rwcu",
        active: bool = True,
    ) -> int:
        return int(
            env["ir.rule"]
            .create(
                {
                    "name": f"rule {domain}",
                    "model_id": self.item_model,
                    "domain_force": domain,
                    "groups": [Command.set(list(groups))],
                    "active": active,
                    **{f"perm_{op}": op[0] in perms for op in OPS},
                }
            )
            .id
        )

    def user(self, env: Environment, groups: Sequence[int] = ()) -> Environment:
        """An internal user (base.group_user plus ``groups``), as an environment."""
        env["res.users"].browse(self.uid).write(
            {"group_ids": [Command.set([self.group_user, *groups])]}
        )
        return env.with_user(self.uid)

    def portal(self, env: Environment) -> Environment:
        partner = env["res.partner"].create({"name": "Portal customer"})
        user = env["res.users"].create(
            {
                "login": "portal-corner",
                "name": "Portal",
                "partner_id": partner.id,
                "group_ids": [Command.link(self.group_portal)],
                "company_id": self.main,
                "company_ids": [Command.set([self.main])],
            }
        )
        return env.with_user(user)

    @staticmethod
    def items(env: Environment) -> dict[str, int]:
        """Three items: big (quantity 5, draft), done (1, done), small (1, draft)."""
        values = [
            {"name": "big", "quantity": 5, "state": "draft"},
            {"name": "done", "quantity": 1, "state": "done"},
            {"name": "small", "quantity": 1, "state": "draft"},
        ]
        return dict(zip(["big", "done", "small"], env[ITEM].create(values).ids, strict=True))

    @staticmethod
    def visible(user_env: Environment) -> set[str]:
        ids = user_env[ITEM].search([]).ids
        return {str(r.name) for r in user_env(su=True)[ITEM].browse(ids)}

    @staticmethod
    def allowed(user_env: Environment, items: Mapping[str, int], op: str) -> set[str]:
        return {name for name, rid in items.items() if user_env[ITEM].browse(rid).has_access(op)}


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def shared_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Corner]:
    """One catalog database per backend for the corner cases below, which all run in
    a transaction that is rolled back (a fresh database per case would cost more than
    all the cases together)."""
    server: PostgresServer | None = None
    name = unique_database_name("bastion_corner")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('corner') / 'corner.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        assert server is not None
        url = server.create_database(name)
    reg = Registry(url, addons_path=[ADDONS])
    try:
        reg.install("test_catalog")
        yield Corner.setup(reg)
    finally:
        reg.dispose()
        if server is not None:
            server.drop_database(name)


@pytest.fixture
def corner(shared_catalog: Corner) -> Corner:
    return shared_catalog


BIG = "[('quantity', '>', 2)]"
DONE = "[('state', '=', 'done')]"


def test_two_group_rules_unify(corner: Corner) -> None:
    with corner.transaction() as env:
        a, b = corner.group(env, "A"), corner.group(env, "B")
        corner.acl(env, None)
        corner.rule(env, BIG, [a])
        corner.rule(env, DONE, [b])
        corner.items(env)
        assert corner.visible(corner.user(env, [a, b])) == {"big", "done"}
        assert corner.visible(corner.user(env, [a])) == {"big"}
        assert corner.visible(corner.user(env, [b])) == {"done"}
        assert corner.visible(corner.user(env, [])) == {"big", "done", "small"}


def test_global_rules_intersect(corner: Corner) -> None:
    with corner.transaction() as env:
        corner.acl(env, None)
        corner.rule(env, "[('quantity', '>=', 1)]")
        corner.rule(env, "[('state', '=', 'draft')]")
        corner.items(env)
        assert corner.visible(corner.user(env)) == {"big", "small"}
        corner.rule(env, BIG)
        assert corner.visible(corner.user(env)) == {"big"}


def test_group_rules_intersect_the_global_ones(corner: Corner) -> None:
    """The first group rule added to a global ruleset restricts what the global rules
    alone let through."""
    with corner.transaction() as env:
        a = corner.group(env, "A")
        corner.acl(env, None)
        corner.rule(env, "[('state', 'in', ['draft', 'done'])]")
        corner.items(env)
        user = corner.user(env, [a])
        assert corner.visible(user) == {"big", "done", "small"}
        corner.rule(env, BIG, [a])
        assert corner.visible(user) == {"big"}
        # a group rule of a group the user lacks changes nothing for them
        b = corner.group(env, "B")
        corner.rule(env, "[(0, '=', 1)]", [b])
        assert corner.visible(user) == {"big"}


def test_stricter_group_rule_cannot_narrow_another_group_rule(corner: Corner) -> None:
    with corner.transaction() as env:
        a, b = corner.group(env, "A"), corner.group(env, "B")
        corner.acl(env, None)
        corner.rule(env, "[(1, '=', 1)]", [a])
        corner.items(env)
        user = corner.user(env, [a, b])
        everything = {"big", "done", "small"}
        assert corner.visible(user) == everything
        corner.rule(env, "[(0, '=', 1)]", [b])
        corner.rule(env, BIG, [b])
        assert corner.visible(user) == everything  # OR: A still grants everything
        corner.rule(env, BIG)  # only a global rule narrows
        assert corner.visible(user) == {"big"}


def test_inactive_rules_are_ignored(corner: Corner) -> None:
    with corner.transaction() as env:
        a, b = corner.group(env, "A"), corner.group(env, "B")
        corner.acl(env, None)
        deny_all = corner.rule(env, "[(0, '=', 1)]", active=False)
        corner.rule(env, "[(1, '=', 1)]", [a], active=False)  # would grant everything
        corner.rule(env, BIG, [b])
        corner.items(env)
        user = corner.user(env, [a, b])
        assert corner.visible(user) == {"big"}
        env["ir.rule"].browse(deny_all).write({"active": True})
        assert corner.visible(user) == set()
        env["ir.rule"].browse(deny_all).write({"active": False})
        assert corner.visible(user) == {"big"}
        # an inactive group rule alone is no group rule: nothing restricts
        env["ir.rule"].search([("domain_force", "=", BIG)]).write({"active": False})
        assert corner.visible(user) == {"big", "done", "small"}


def test_perm_flags_select_the_operations_a_rule_applies_to(corner: Corner) -> None:
    with corner.transaction() as env:
        corner.acl(env, None)
        corner.rule(env, "[(0, '=', 1)]", perms="wu")  # write and unlink only
        corner.rule(env, BIG, perms="r")  # read only
        items = corner.items(env)
        user = corner.user(env)
        assert corner.visible(user) == {"big"}
        assert corner.allowed(user, items, "read") == {"big"}
        assert corner.allowed(user, items, "write") == set()
        assert corner.allowed(user, items, "unlink") == set()
        assert corner.allowed(user, items, "create") == {"big", "done", "small"}
        assert attempt(user, lambda: user[ITEM].create({"name": "new", "quantity": 0}))
        with pytest.raises(AccessError):
            user[ITEM].browse(items["big"]).write({"name": "renamed"})


def test_no_rule_means_allowed(corner: Corner) -> None:
    with corner.transaction() as env:
        corner.acl(env, None)
        items = corner.items(env)
        user = corner.user(env)
        for op in OPS:
            assert corner.allowed(user, items, op) == set(items)
        assert corner.visible(user) == set(items)
        assert attempt(user, lambda: user[ITEM].browse(items["big"]).write({"quantity": 0}))
        assert attempt(user, lambda: user[ITEM].browse(items["big"]).unlink())


def test_access_rights_are_the_union_of_the_groups(corner: Corner) -> None:
    with corner.transaction() as env:
        a, b = corner.group(env, "A"), corner.group(env, "B")
        c = corner.group(env, "C", implied=[b])
        corner.acl(env, a, "rc")
        corner.acl(env, b, "w")
        items = corner.items(env)
        big = items["big"]
        expectations = {
            (a, b): {"read", "create", "write"},
            (a, c): {"read", "create", "write"},  # B's row reaches C's members
            (a,): {"read", "create"},
            (b,): {"write"},
            (): set(),
        }
        for groups, granted in expectations.items():
            user = corner.user(env, list(groups))
            for op in OPS:
                assert user[ITEM].browse(big).has_access(op) is (op in granted), (groups, op)


def test_access_right_without_group_applies_to_everyone(corner: Corner) -> None:
    with corner.transaction() as env:
        corner.acl(env, None, "r")
        items = corner.items(env)
        for user in (corner.user(env), corner.portal(env)):
            assert corner.visible(user) == set(items)
            assert corner.allowed(user, items, "read") == set(items)
            for op in ("write", "create", "unlink"):
                assert corner.allowed(user, items, op) == set()
            with pytest.raises(AccessError):
                user[ITEM].create({"name": "nope"})


def test_no_access_right_denies_even_internal_users(corner: Corner) -> None:
    with corner.transaction() as env:
        items = corner.items(env)
        admin = env.with_user(ref_id(env, "base.user_admin"))  # group_system, still no row
        for user in (corner.user(env), admin):
            with pytest.raises(AccessError):
                user[ITEM].search([])
            for op in OPS:
                assert corner.allowed(user, items, op) == set()
                with pytest.raises(AccessError):
                    user[ITEM].browse(items["big"]).check_access(op)
            with pytest.raises(AccessError):
                user[ITEM].create({"name": "nope"})
        # a row for a group the user lacks does not help either
        corner.acl(env, corner.group(env, "Other"))
        with pytest.raises(AccessError):
            corner.user(env)[ITEM].search([])


def test_committed_rule_changes_reach_the_next_transaction(
    make_registry: Callable[..., Registry],
) -> None:
    """The shared security cache is versioned: a rule committed by one transaction is
    applied by the next one, and a rolled back one never is."""
    corner = Corner.setup(make_registry("test_catalog"))
    everything = {"big", "done", "small"}
    with corner.reg.transaction() as env:
        corner.acl(env, None)
        corner.items(env)
        assert corner.visible(corner.user(env)) == everything
    with corner.reg.transaction() as env:
        assert corner.visible(env.with_user(corner.uid)) == everything
        corner.rule(env, BIG)
    with corner.reg.transaction() as env:
        assert corner.visible(env.with_user(corner.uid)) == {"big"}
    with corner.transaction() as env:
        corner.rule(env, "[(0, '=', 1)]")
        assert corner.visible(env.with_user(corner.uid)) == set()
    with corner.reg.transaction() as env:
        assert corner.visible(env.with_user(corner.uid)) == {"big"}


# -- found by the property test ------------------------------------------------------------
def test_create_with_many2many_needs_no_read_access(corner: Corner) -> None:
    """Creating needs the create right and the create rules, nothing else: a user who
    may create but not read items can still give the new item tags."""
    with corner.transaction() as env:
        corner.acl(env, None, "c")
        user = corner.user(env)
        tag = corner.tag
        user[ITEM].create({"name": "plain"})
        created = user[ITEM].create({"name": "tagged", "tag_ids": [Command.set([tag])]})
        assert env[ITEM].browse(created.id).tag_ids.ids == [tag]


def test_write_many2many_needs_no_read_access(corner: Corner) -> None:
    """Writing is checked against the write rules, before and after; a record the
    read rules hide but the write rules allow can be written, tags included."""
    with corner.transaction() as env:
        corner.acl(env, None)
        corner.rule(env, "[(0, '=', 1)]", perms="r")  # reads nothing, writes anything
        items = corner.items(env)
        user = corner.user(env)
        tag = corner.tag
        record = user[ITEM].browse(items["big"])
        record.write({"name": "renamed"})
        record.write({"tag_ids": [Command.set([tag])]})
        assert env[ITEM].browse(items["big"]).tag_ids.ids == [tag]
