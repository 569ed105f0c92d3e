{"name": "malformed_files", "depends": ["base"], "data": ["security/ir.model.access.csv", "security/broken.xml", "security/doctype.xml", "security/missing.xml", "security/bad_eval.xml"]}
