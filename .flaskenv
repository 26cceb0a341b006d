# Read by `flask` (python-dotenv). Nothing secret belongs here: put secrets in the environment.
FLASK_APP=wsgi.py
FLASK_RUN_HOST=127.0.0.1
FLASK_RUN_PORT=5000
