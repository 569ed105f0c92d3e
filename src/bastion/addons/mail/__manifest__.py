{
    "name": "Discuss",
    "summary": "Followers, messages and attachments on any document",
    "version": "1.0",
    "depends": ["base"],
    "data": [
        "security/ir.model.access.csv",
        "security/mail_security.xml",
    ],
}
