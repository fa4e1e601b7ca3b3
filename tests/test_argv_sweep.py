"""The command line's one-line check of a multirun composes each job as Hydra's sweeper
will launch it: a preset's own grid (`hydra.sweeper.params`) joins the command line's."""

import pytest

from rnnlab.config.argv import check_composes, preset_sweep
from rnnlab.errors import RnnlabError


def test_a_presets_grid_is_read_from_its_sweeper_params():
    params = preset_sweep(["experiment=ablation_mingru"])
    assert params["model"] == "mingru"
    assert params["seed"] == "range(0,3)"


def test_a_setting_of_the_presets_swept_model_is_accepted():
    # the preset's base model is rnn; its sweep trains mingru, where model.mode applies
    check_composes(["-m", "experiment=ablation_mingru", "model.mode=fused", "seed=0"])


def test_the_command_lines_value_wins_over_the_presets_grid():
    with pytest.raises(RnnlabError, match="model.cell='lstm'"):
        check_composes(["-m", "experiment=ablation_mingru", "model=lstm", "model.mode=fused"])


def test_a_setting_that_fits_none_of_the_grids_models_is_still_refused():
    with pytest.raises(RnnlabError, match="model.mode='fused' is for the minimal cells"):
        check_composes(["-m", "experiment=ablation_table16", "model.mode=fused", "seed=0"])
