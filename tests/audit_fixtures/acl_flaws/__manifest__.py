{"name": "acl_flaws", "depends": ["mail"], "data": ["security/ir.model.access.csv", "security/rules.xml"]}
