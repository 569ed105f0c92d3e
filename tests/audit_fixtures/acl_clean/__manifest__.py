{"name": "acl_clean", "depends": ["mail"], "data": ["security/ir.model.access.csv", "security/rules.xml"]}
