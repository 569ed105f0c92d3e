{"name": "rules_flaws", "depends": ["mail", "portal"], "data": ["security/ir.model.access.csv", "security/rules.xml"]}
