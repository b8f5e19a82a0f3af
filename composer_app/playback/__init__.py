"""Qt-free playback: sinks (FluidSynth, MIDI ports, fake), real-time scheduler, offline render."""
