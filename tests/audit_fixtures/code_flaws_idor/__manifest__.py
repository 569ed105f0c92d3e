{"name": "code_flaws_idor", "depends": ["portal"], "data": []}
