# The two commands of the README. Both set everything up first (scripts/setup.sh is idempotent).
.PHONY: run test setup bench

run:
	scripts/setup.sh
	.venv/bin/composer-app resources/examples/c_major_melody.mid

test:
	scripts/setup.sh --test
	QT_QPA_PLATFORM=offscreen JACK_NO_START_SERVER=1 .venv/bin/python -m pytest -q

bench:
	scripts/setup.sh --test
	QT_QPA_PLATFORM=offscreen .venv/bin/python bench/run_all.py
