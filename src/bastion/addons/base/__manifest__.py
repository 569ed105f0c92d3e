{
    "name": "Base",
    "summary": "Companies, partners, users, groups, access rights and record rules",
    "version": "1.0",
    "depends": [],
    "data": [
        "security/base_groups.xml",
        "data/base_data.xml",
        "security/ir.model.access.csv",
        "security/base_security.xml",
    ],
}
