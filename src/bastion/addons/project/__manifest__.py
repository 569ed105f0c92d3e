{
    "name": "Project",
    "summary": "Projects and tasks, shared with customers through the portal",
    "version": "1.0",
    "depends": ["mail", "contacts"],
    "data": [
        "security/project_security.xml",
        "security/ir.model.access.csv",
    ],
}
