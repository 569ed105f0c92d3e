{
    "name": "Security scenarios",
    "summary": "A model without access rights and fields with negated group expressions",
    "depends": ["base"],
    "data": ["security/scenario_groups.xml"],
}
