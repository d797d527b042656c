#!/usr/bin/env bash
# Regenerates the sample prompts with espeak-ng and sox (Debian: apt-get install espeak-ng sox).
# The prompts deliberately come in several rates and formats so that the demo and the
# tests exercise prompt loading and resampling, not only the 8 kHz fast path.
set -euo pipefail
cd "$(dirname "$0")/prompts"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

say() { # say NAME TEXT -> $tmp/NAME.wav at espeak's native 22.05 kHz mono s16
  espeak-ng -v en-us -s 160 -w "$tmp/$1.wav" "$2"
}

say welcome   "Welcome to voicebot. Press 1 for sales, press 2 for support, press 3 to leave a message, or 9 to hear this again."
say menu      "Sales menu. Press 1 for new orders, press 2 for existing orders, or star to go back."
say invalid   "Sorry, that is not a valid choice."
say timeout   "Sorry, I did not hear your choice."
say goodbye   "Thank you for calling. Goodbye."
say message   "Please leave a message after the tone. Press the hash key when you are done."
say transfer  "Please hold while I transfer your call."
say sales     "Connecting you to sales."
say support   "Connecting you to support."
say saved     "Your message has been saved."
say closed    "We are closed. Please call again during office hours."

# One rate and format per prompt, so every loading path is used.
cp "$tmp/welcome.wav" welcome.wav                                              # 22.05 kHz mono s16 (espeak native)
sox "$tmp/menu.wav"     -r 16000 -b 16 -c 1 menu.wav                            # 16 kHz mono s16
sox "$tmp/invalid.wav"  -r 8000  -b 16 -c 1 -e signed-integer invalid.wav       # 8 kHz mono s16 (no resampling)
sox "$tmp/timeout.wav"  -r 8000  -b 16 -c 1 -e signed-integer timeout.wav
sox "$tmp/goodbye.wav"  -r 44100 -b 16 -c 2 goodbye.wav                         # 44.1 kHz stereo s16
sox "$tmp/message.wav"  -r 48000 -b 24 -c 1 message.wav                         # 48 kHz mono s24
sox "$tmp/transfer.wav" -r 16000 -e floating-point -b 32 -c 2 transfer.wav      # 16 kHz stereo f32
sox "$tmp/sales.wav"    -r 8000  -b 16 -c 1 -e signed-integer -t raw sales.pcm  # raw s16le 8 kHz
sox "$tmp/support.wav"  -r 11025 -b 8  -c 1 support.wav                         # 11.025 kHz u8
sox "$tmp/saved.wav"    -r 24000 -b 16 -c 1 saved.wav                           # 24 kHz mono s16
sox "$tmp/closed.wav"   -r 8000  -b 16 -c 1 -e signed-integer closed.wav

# Tones: a 1 kHz beep before recordings, and a ringback cadence (425 Hz, 1 s on, 4 s off)
# looped while route_to rings a destination.
sox -n -r 8000 -b 16 -c 1 beep.wav synth 0.4 sine 1000 vol 0.5
sox -n -r 8000 -b 16 -c 1 ringback.wav synth 1 sine 425 vol 0.3 pad 0 4
ls -l
