{"name": "grp_public_admin", "depends": ["base"], "data": ["security/security.xml"]}
