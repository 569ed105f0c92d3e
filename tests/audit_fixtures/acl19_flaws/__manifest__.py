{"name": "acl19_flaws", "depends": ["mail"], "data": ["security/ir.access.csv", "security/rules.xml"]}
