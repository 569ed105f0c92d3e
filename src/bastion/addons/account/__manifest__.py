{
    "name": "Invoicing",
    "summary": "Customer invoices, credit notes and vendor bills, with a customer portal view",
    "version": "1.0",
    "depends": ["mail", "contacts"],
    "data": [
        "security/account_security.xml",
        "security/ir.model.access.csv",
    ],
}
