#!/usr/bin/env bash
# Regenerates the telephone adaptation of Debian's en-us acoustic model (means, variances,
# sendump, transition_matrices in this directory). See README.md for why and what it measured.
#
# Speech: three Festival voices built from recordings of real speakers (kal and ked diphones,
# the slt HTS voice) and two flite voices (awb, rms) read sentences.txt and digits.txt (none
# of the test phrases). Each utterance goes through the telephone band (16 kHz -> 8 kHz ->
# 16 kHz, as a call reaches the decoder), features are computed with the model's own
# feat.params, SphinxTrain's bw collects statistics against the transcripts and map_adapt
# moves the model's Gaussians to them (MAP).
#
# Needs (Debian): festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite sox
# sphinxtrain sphinxbase-utils pocketsphinx (for pocketsphinx_mdef_convert) pocketsphinx-en-us
# python3. CI does not run this; the output is committed. Takes about four minutes on two idle
# cores. Two runs do not give byte-identical files; the rejection counts of remakes differ by
# up to two phrases per set (crates/speech/docs/rejection.md, fourth round).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
model=${MODEL_DIR:-/usr/share/pocketsphinx/model/en-us}
train=/usr/lib/sphinxtrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p base wav mfc acc out

cp "$model"/en-us/{mdef,means,variances,transition_matrices,feat.params,noisedict} base/
pocketsphinx_mdef_convert -text base/mdef base/mdef.txt 2>/dev/null
python3 "$here/sendump_to_mixw.py" "$model/en-us/sendump" base/mixture_weights

# Into the telephone band and back to 16 kHz, as call audio reaches the decoder.
band() {
  sox -v 0.9 raw.wav -r 8000 -b 16 -c 1 -e signed-integer band.wav 2>/dev/null
  sox band.wav -r 16000 "wav/$1.wav" 2>/dev/null
  echo "$1" >> train.fileids
  echo "<s> $2 </s> ($1)" >> train.transcription
}
voices=(kal_diphone ked_diphone cmu_us_slt_arctic_hts)
n=0
while read -r text; do
  n=$((n + 1))
  for voice in "${voices[@]}"; do
    id="${voice%%_*}_$n"
    [[ $voice == cmu_us_slt_arctic_hts ]] && id="slt_$n"
    echo "$text" | text2wave -eval "(voice_$voice)" -o raw.wav 2>/dev/null
    band "$id" "$text"
  done
done < <(cat "$here/sentences.txt" "$here/digits.txt")
# Two more speakers from flite: awb (Scottish English) and rms (US), both built from
# recordings of real speakers. Adding them raised the held-out rejection sets (other voices
# than the tests tune on) more than any decoder setting did (crates/speech/docs/rejection.md).
n=0
while read -r text; do
  n=$((n + 1))
  for voice in awb rms; do
    flite -voice "$voice" -t "$text" -o raw.wav
    band "flite${voice}_$n" "$text"
  done
done < <(cat "$here/sentences.txt" "$here/digits.txt")
echo "$(wc -l < train.fileids) utterances"

sphinx_fe -argfile base/feat.params -samprate 16000 -dither yes -seed 1 \
  -c train.fileids -di wav -do mfc -ei wav -eo mfc -mswav yes > fe.log 2>&1
"$train/bw" -hmmdir base -moddeffn base/mdef.txt -ts2cbfn .ptm. -feat 1s_c_d_dd \
  -svspec 0-12/13-25/26-38 -cmn batch -agc none -dictfn "$model/cmudict-en-us.dict" \
  -ctlfn train.fileids -lsnfn train.transcription -cepdir mfc -accumdir acc > bw.log 2>&1
"$train/map_adapt" -moddeffn base/mdef.txt -ts2cbfn .ptm. -meanfn base/means \
  -varfn base/variances -mixwfn base/mixture_weights -tmatfn base/transition_matrices \
  -accumdir acc -mapmeanfn out/means -mapvarfn out/variances -mapmixwfn out/mixture_weights \
  -maptmatfn out/transition_matrices > map.log 2>&1
"$train/mk_s2sendump" -pocketsphinx yes -moddeffn base/mdef.txt \
  -mixwfn out/mixture_weights -sendumpfn out/sendump > sendump.log 2>&1

cp out/{means,variances,sendump,transition_matrices} "$here/"
# The model definition the adaptation belongs to (FNV-1a, 64 bits), checked before it is used.
python3 -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(f"{h:016x}")' "$model/en-us/mdef" > "$here/mdef.fnv1a64"
echo "wrote $here/{means,variances,sendump,transition_matrices}"
