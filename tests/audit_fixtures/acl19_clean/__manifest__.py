{"name": "acl19_clean", "depends": ["mail"], "data": ["security/ir.access.csv", "security/rules.xml"]}
