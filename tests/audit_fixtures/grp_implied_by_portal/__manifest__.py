{"name": "grp_implied_by_portal", "depends": ["base"], "data": ["security/security.xml"]}
