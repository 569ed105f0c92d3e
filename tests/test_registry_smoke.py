from bastion import Registry


def test_base_installs(make_registry) -> None:
    reg: Registry = make_registry("test_catalog")
    with reg.transaction() as env:
        admin = env.ref("base.user_admin")
        assert admin.login == "admin"
        item = env["test.item"].create({"name": "x", "tag_ids": [(0, 0, {"name": "t"})]})
        assert item.tag_ids.name == "t"
        assert env.with_user(admin)["test.item"].search([]) == item
