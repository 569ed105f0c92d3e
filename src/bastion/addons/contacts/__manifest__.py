{
    "name": "Contacts",
    "summary": "Addresses, phone numbers and internal notes on partners",
    "version": "1.0",
    "depends": ["base"],
    "data": [],
}
