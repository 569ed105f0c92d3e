{"name": "code_clean_idor", "depends": ["portal"], "data": []}
