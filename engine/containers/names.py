"""Container names: Docker's validation rule and random ``adjective_name`` names."""

from __future__ import annotations

import random
import re

from pydocker.engine.errors import InvalidParameter, SystemFailure

VALID_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

_ADJECTIVES = (
    "admiring agitated amazing awesome blissful bold brave busy charming clever cool "
    "dazzling determined eager ecstatic elastic elegant epic fervent festive focused "
    "friendly funny gallant gifted gracious happy hardcore heuristic hopeful hungry "
    "inspiring intelligent jolly jovial keen kind laughing loving lucid magical modest "
    "nervous nice nifty nostalgic objective optimistic peaceful pedantic pensive practical "
    "priceless quirky quizzical relaxed reverent romantic serene sharp silly sleepy "
    "stoic strange suspicious sweet tender thirsty trusting upbeat vibrant vigilant "
    "vigorous wizardly wonderful xenodochial youthful zealous zen").split()
# Pioneers of computing and science, as Docker's generator uses.
_NAMES = (
    "agnesi albattani allen archimedes babbage banach bardeen bartik bell bhabha "
    "blackwell bohr booth borg bose boyd brahmagupta brattain brown cannon carson cerf "
    "chandrasekhar clarke curie darwin davinci dijkstra easley einstein elgamal engelbart "
    "euclid euler fermat fermi feynman franklin galileo gates goldberg goodall hamilton "
    "hawking heisenberg hertz hodgkin hopper hypatia jackson jennings johnson kalam "
    "kapitsa kepler khorana knuth kowalevski lamarr lamport leakey liskov lovelace "
    "lumiere mayer mccarthy mcclintock meitner mendel mirzakhani montalcini moore morse "
    "napier nash neumann newton nightingale noether northcutt noyce panini pascal "
    "pasteur perlman pike poincare ptolemy raman ramanujan ritchie rosalind saha sammet "
    "shannon shockley sinoussi snyder spence stonebraker sutherland swartz tesla "
    "thompson torvalds turing varahamihira volhard wescoff wiles williams wilson wing "
    "wozniak wright yalow yonath").split()


def validate(name: str) -> str:
    """The name without its leading slash; Docker's 400 when it breaks the rule."""
    if not VALID_NAME.match(name):
        raise InvalidParameter(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")


def random_name(taken: set[str]) -> str:
    for attempt in range(100):
        name = f"{random.choice(_ADJECTIVES)}_{random.choice(_NAMES)}"
        if attempt > 10:
            name += str(random.randint(0, 9))
        if name not in taken:
            return name
    raise SystemFailure("could not generate a free container name")
