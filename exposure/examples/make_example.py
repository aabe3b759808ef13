"""Make `spiders_session.jsonl`: a 20-minute session recorded in closed loop with the core.

A plausible heart (rest 70 bpm, a lagged response to each level that habituates over minutes,
a strong reaction at one level, a finger-out dropout) is stepped once a second together with
the core, so the recorded decisions are the ones the core really takes. Run it again with
`python -m exposure.examples.make_example` after changing the core's rules.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from exposure.core import step
from exposure.models import (
    ControlSettings,
    End,
    Event,
    Ladder,
    Level,
    Note,
    Reading,
    Resume,
    Safe,
    SessionStart,
    StepDown,
    Suds,
    Tick,
)

LADDER = Ladder(
    scene="spiders",
    levels=[
        Level(
            name="photo of a spider, far wall",
            params={"count": 1, "distance": 4.0, "size": 0.02},
            suds=10,
        ),
        Level(
            name="small spider in a glass box, 3 m",
            params={"count": 1, "distance": 3.0, "size": 0.03},
            suds=20,
        ),
        Level(
            name="small spider walking, 2 m",
            params={"count": 1, "distance": 2.0, "size": 0.03, "movement": 0.3},
            suds=30,
        ),
        Level(
            name="spider on the table, 1 m",
            params={"count": 1, "distance": 1.0, "size": 0.04, "movement": 0.5},
            suds=40,
        ),
        Level(
            name="three spiders on the table",
            params={"count": 3, "distance": 0.9, "size": 0.04, "movement": 0.6},
            suds=50,
        ),
        Level(
            name="large spider walking, 0.6 m",
            params={"count": 1, "distance": 0.6, "size": 0.07, "movement": 0.8},
            suds=60,
        ),
        Level(
            name="spiders on the floor around you",
            params={"count": 6, "distance": 0.5, "size": 0.05, "movement": 0.9},
            suds=70,
        ),
        Level(
            name="large spider next to your hand",
            params={"count": 1, "distance": 0.25, "size": 0.08, "movement": 0.7},
            suds=80,
        ),
        Level(
            name="spider climbing toward your hand",
            params={"count": 1, "distance": 0.1, "size": 0.08, "movement": 1.0},
            suds=90,
        ),
        Level(
            name="many spiders close by",
            params={"count": 12, "distance": 0.2, "size": 0.06, "movement": 1.0},
            suds=100,
        ),
    ],
)

# what the therapist and the client do, by second
SCRIPT: dict[int, list[Event]] = {
    200: [Suds(value=45)],
    330: [Suds(value=20), Note(text="Client describes the spider's legs; breathing steady.")],
    900: [
        StepDown(),
        Note(text="Therapist steps down to consolidate before trying level 6 again."),
    ],
    960: [Suds(value=55)],
    1000: [Safe(by="client")],
    1090: [Suds(value=25), Resume()],
    1150: [Suds(value=35)],
}
DURATION_S = 1200
SENSITIVE_LEVEL = 6  # this client reacts strongly the first time at level 6


OUT = Path(__file__).with_name("spiders_session.jsonl")


def main(out: Path = OUT) -> None:
    rng = random.Random(7)
    # recorded before steps up waited for SUDS (the file's header has no suds_before_step_up)
    legacy = ControlSettings(suds_before_step_up=False)
    events: list[Event] = [SessionStart(client="C-0042", ladder=LADDER, settings=legacy)]
    state, _ = step(None, events[0])
    hr, entered, level, spiked = 70.0, 0.0, 0, False
    for second in range(1, DURATION_S + 1):
        t = float(second)
        if state.level != level:
            spiked = spiked or level == SENSITIVE_LEVEL  # the strong reaction happens once
            level, entered = state.level, t
        minutes_here = (t - entered) / 60
        response = 3.2 * level * (0.3 + 0.7 * math.exp(-minutes_here / 1.5))
        if level == SENSITIVE_LEVEL and not spiked:
            response += 12.0
        if 1000 <= t < 1030:
            response += 35.0  # the client's panic before and just after the break
        hr += (70.0 + response - hr) / 12.0  # about 12 s lag
        batch: list[Event] = []
        if 760 <= second < 775:
            batch.append(Reading(t=t, hr=None, quality="no-contact"))  # finger out of the clip
            batch.append(Tick(t=t + 0.5))
        else:
            beat = hr + rng.gauss(0, 1.2)
            batch.append(Reading(t=t, hr=round(beat, 1), rr_ms=(round(60000 / beat),)))
        for command in SCRIPT.get(second, []):
            batch.append(command.model_copy(update={"t": t}))
        for event in batch:
            state, _ = step(state, event)
            events.append(event)
    events.append(Note(t=DURATION_S + 1.0, text="Good session; next time start at level 4."))
    events.append(End(t=DURATION_S + 2.0))
    with out.open("w", encoding="utf-8") as f:
        for event in events:
            f.write(json.dumps(event.model_dump(mode="json", exclude_defaults=False)) + "\n")
    print(f"wrote {len(events)} events to {out}")


if __name__ == "__main__":
    main()
