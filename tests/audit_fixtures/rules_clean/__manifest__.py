{"name": "rules_clean", "depends": ["mail", "portal"], "data": ["security/ir.model.access.csv", "security/rules.xml"]}
