"""Average the weights of fine-tuned checkpoints of one model (a uniform "model soup").

Checkpoints from one training trajectory sit in one basin, so their average is a model too, and
often a better one than each (Wortsman et al., 2022, "Model soups"). Whether it is better here is
decided on validation, like any other candidate, before export.

    python -m training.average_weights runs/a/final runs/b/final --output runs/soup
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, HfArgumentParser

from training.logs import configure_logging
from training.train import RUN_ARGS_FILE

logger = logging.getLogger("training.average_weights")


def average_weights(checkpoints: list[Path], output: Path) -> Path:
    """Write the uniform average of ``checkpoints`` (same architecture and labels) to ``output``."""
    if len(checkpoints) < 2:
        raise ValueError("averaging needs at least two checkpoints")
    models = [
        AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32) for path in checkpoints
    ]
    first = models[0]
    for path, model in zip(checkpoints[1:], models[1:]):
        if model.config.id2label != first.config.id2label:
            raise ValueError(f"{path} labels {model.config.id2label} differ from {first.config.id2label}")
    states = [model.state_dict() for model in models]
    averaged = {
        # Integer buffers (position ids) are the same in every checkpoint: keep the first.
        name: torch.stack([state[name].float() for state in states]).mean(0).to(tensor.dtype)
        if tensor.is_floating_point()
        else tensor
        for name, tensor in states[0].items()
    }
    first.load_state_dict(averaged)
    first.save_pretrained(output)
    AutoTokenizer.from_pretrained(checkpoints[0]).save_pretrained(output)
    # Keep the last stage's records (export reads them for the card) and say what was averaged.
    last = checkpoints[-1]
    if (last / "training_args.json").is_file():
        shutil.copy(last / "training_args.json", output / "training_args.json")
    run_args = json.loads((last / RUN_ARGS_FILE).read_text()) if (last / RUN_ARGS_FILE).is_file() else {}
    run_args["averaged_from"] = [str(path) for path in checkpoints]
    (output / RUN_ARGS_FILE).write_text(json.dumps(run_args, indent=1))
    logger.info("averaged %d checkpoints into %s", len(checkpoints), output)
    return output


CHECKPOINTS_HELP = "two or more checkpoint folders of one model (same labels)"


@dataclass
class AverageArguments:
    output: Path = field(metadata={"help": "folder to write the averaged model to"})
    # HfArgumentParser makes every field an option (--checkpoints A B, accepted but not listed);
    # main() adds the positional form, the one the usage line above and training/reproduce.sh use.
    checkpoints: list[Path] = field(default_factory=list, metadata={"help": argparse.SUPPRESS})


def main(argv: list[str] | None = None) -> Path:
    parser = HfArgumentParser(AverageArguments, description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", type=Path, default=argparse.SUPPRESS, help=CHECKPOINTS_HELP)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    if not args.checkpoints:
        parser.error("the following arguments are required: checkpoints")
    configure_logging()
    return average_weights(args.checkpoints, args.output)


if __name__ == "__main__":
    main()
