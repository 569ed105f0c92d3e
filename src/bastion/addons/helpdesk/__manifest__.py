{
    "name": "Helpdesk",
    "summary": "Support tickets, opened by staff or by customers through the portal",
    "version": "1.0",
    "depends": ["mail", "contacts"],
    "data": [
        "security/helpdesk_security.xml",
        "security/ir.model.access.csv",
    ],
}
