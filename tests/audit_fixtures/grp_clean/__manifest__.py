{"name": "grp_clean", "depends": ["base"], "data": ["security/security.xml", "data/users.xml"]}
