{"name": "grp_users", "depends": ["base"], "data": ["security/security.xml", "data/users.xml"]}
