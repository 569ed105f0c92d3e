{
    "name": "Sales",
    "summary": "Products, quotations and sales orders, with a customer portal view",
    "version": "1.0",
    "depends": ["mail", "contacts"],
    "data": [
        "security/sale_security.xml",
        "security/ir.model.access.csv",
    ],
}
