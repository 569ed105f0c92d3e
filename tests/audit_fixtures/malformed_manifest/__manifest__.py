{"name": "m", "depends": __import__("os").listdir("/")}
