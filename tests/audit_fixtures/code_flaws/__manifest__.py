{"name": "code_flaws", "depends": ["portal"], "data": []}
