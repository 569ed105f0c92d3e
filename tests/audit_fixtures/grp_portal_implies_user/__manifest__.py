{"name": "grp_portal_implies_user", "depends": ["base"], "data": ["security/security.xml"]}
