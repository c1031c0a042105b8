"""Writes notebooks/transfer_learning.ipynb (run from the repository root)."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell(
        "# Transfer learning with kerasish\n\n"
        "The lecture's advice: *download a big network, fine-tune it for your own problem*. "
        "`kerasish.applications` gives torchvision's pretrained backbones Keras's arguments "
        "(`weights`, `include_top`, `pooling`, `classes`); a backbone is a `kerasish.Model`, "
        "so `base.trainable = False` freezes it and it sits inside `Sequential`.\n\n"
        "This notebook runs offline on a CPU in well under a minute: it trains on the "
        "handwritten digits and uses ResNet-18."
    ),
    new_markdown_cell(
        "## Where pretrained weights come from\n\n"
        '`weights="imagenet"` means torchvision\'s `DEFAULT` weights. torchvision looks for '
        "the file in its cache, `$TORCH_HOME/hub/checkpoints/<file name from the URL>`, and "
        "downloads it only when it is missing. We are offline here, so we point `TORCH_HOME` "
        "at a scratch folder and place a **random** state dict of the right shapes under that "
        "name: everything below then runs through torchvision's real loading code, just with "
        "meaningless weights. Set `OFFLINE = False` on a machine with internet to get the real "
        "ones (your own cache is never touched by this cell)."
    ),
    new_code_cell(
        "import os\n"
        "import tempfile\n\n"
        "import torch\n"
        "import torchvision\n\n"
        "import kerasish as K\n"
        "from kerasish import applications, finetune\n"
        "from kerasish.image import image_dataset_from_directory\n\n"
        "OFFLINE = True\n"
        "if OFFLINE:\n"
        '    os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="kerasish-demo-")\n'
        "    weights = torchvision.models.ResNet18_Weights.DEFAULT\n"
        '    cache = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(weights.url))\n'
        "    os.makedirs(os.path.dirname(cache), exist_ok=True)\n"
        "    torch.save(torchvision.models.resnet18(weights=None).state_dict(), cache)\n"
        '    print("random stand-in weights at", cache)\n'
        "K.utils.set_random_seed(0)"
    ),
    new_markdown_cell(
        "## A pretrained classifier, its preprocessing and its class names\n\n"
        "`model.preprocess` is the weights' own torchvision transform (resize, center crop, "
        "normalize), which takes what torchvision takes (PIL images, uint8 tensors, floats in "
        "[0, 1]). `applications.preprocess_input` is Keras's: pixel values in [0, 255] (PIL "
        "images, uint8 or float arrays), those transforms applied. "
        "`applications.decode_predictions` names the top classes from the weights' metadata. "
        "(With the stand-in weights the guesses are random.)"
    ),
    new_code_cell(
        "from PIL import Image\n\n"
        'classifier = applications.ResNet18(weights="imagenet", classifier_activation="softmax")\n'
        "print(classifier.preprocess)\n"
        'photo = Image.new("RGB", (320, 240), color=(200, 160, 90))\n'
        "x = applications.preprocess_input([photo], weights=classifier)\n"
        "probs = classifier.predict(x, verbose=0)\n"
        "applications.decode_predictions(probs, top=3)"
    ),
    new_markdown_cell(
        "## Our problem: an image folder\n\n"
        "We write the digits as PNG files, one folder per class, and read them back with "
        "`image_dataset_from_directory` (Keras's arguments and values: float32 pixels in "
        "[0, 255], channels-first as kerasish's layers; batches `fit()` takes as they are)."
    ),
    new_code_cell(
        "import numpy as np\n\n"
        "(x_digits, y_digits), _ = K.datasets.digits.load_data()\n"
        'root = tempfile.mkdtemp(prefix="digits-")\n'
        "for i, (image, label) in enumerate(zip(x_digits[:300], y_digits[:300])):\n"
        '    os.makedirs(f"{root}/{label}", exist_ok=True)\n'
        '    Image.fromarray((image[0] * 255).astype(np.uint8)).save(f"{root}/{label}/{i}.png")\n\n'
        "train, val = image_dataset_from_directory(\n"
        '    root, image_size=(32, 32), batch_size=32, validation_split=0.2, subset="both", seed=1337\n'
        ")\n"
        "images, labels = next(iter(train))\n"
        "train.class_names, images.shape, images.dtype, float(images.max())"
    ),
    new_markdown_cell(
        "## Freeze the base, train a new head\n\n"
        '`include_top=False, pooling="avg"` gives one vector per image. The model scales its '
        "[0, 255] inputs with `Rescaling(1 / 255)`, as Keras's tutorials do, then normalizes "
        "them with the weights' mean and std. With the base frozen only the head trains; "
        "frozen BatchNorm layers run in inference mode, as in Keras."
    ),
    new_code_cell(
        "from torchvision.transforms import Normalize\n\n"
        'base = applications.ResNet18(weights="imagenet", include_top=False, pooling="avg")\n'
        "base.trainable = False\n"
        "norm = base.preprocess\n"
        "model = K.Sequential([\n"
        "    K.layers.Rescaling(1 / 255),\n"
        "    Normalize(norm.mean, norm.std),\n"
        "    base,\n"
        "    K.layers.BatchNormalization(momentum=0.5),\n"
        '    K.layers.Dense(128, activation="relu"),\n'
        "    K.layers.Dropout(0.5),\n"
        "    K.layers.Dense(10),\n"
        "])\n"
        'model.compile(optimizer=K.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",\n'
        '              metrics=["accuracy"])\n'
        "before = [p.detach().clone() for p in base.parameters()]\n"
        "history = model.fit(train, validation_data=val, epochs=3)\n"
        "model.summary()\n"
        'print("base unchanged:", all(torch.equal(a, b) for a, b in zip(before, base.parameters())))'
    ),
    new_markdown_cell(
        "## Unfreeze and fine-tune at a lower learning rate\n\n"
        "Setting `trainable` takes effect at the next `fit`; re-compiling gives a fresh "
        "optimizer with the small learning rate. Keras's advice for BatchNorm layers holds: "
        "keep them in inference mode while the rest trains, so a few small batches do not "
        "overwrite their statistics; `finetune.freeze_batchnorm(base)` does that."
    ),
    new_code_cell(
        "base.trainable = True\n"
        "finetune.freeze_batchnorm(base)\n"
        'model.compile(optimizer=K.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",\n'
        '              metrics=["accuracy"])\n'
        "history = model.fit(train, validation_data=val, epochs=1)\n"
        'print("base changed:", not all(torch.equal(a, b) for a, b in zip(before, base.parameters())))'
    ),
    new_markdown_cell(
        "## The same in one call, with discriminative learning rates\n\n"
        "`finetune.fine_tune` runs both phases. With `lr_decay < 1` the unfrozen phase gives "
        "each block of the base a smaller rate the closer it is to the input; "
        "`finetune.param_groups` shows the groups (and any torch optimizer takes them)."
    ),
    new_code_cell(
        "groups = finetune.param_groups(model, 1e-4, decay=0.7)\n"
        'print(len(groups), "blocks; learning rates from input to head:")\n'
        "print([f\"{g['lr']:.1e}\" for g in groups])\n\n"
        "history = finetune.fine_tune(\n"
        "    model, train, base=base, freeze_epochs=1, epochs=1,\n"
        "    fine_tune_learning_rate=1e-4, lr_decay=0.7, validation_data=val,\n"
        ")\n"
        "# the rates the fine-tuning phase ended with, one per param group (input -> head)\n"
        "print([f\"{g['lr']:.1e}\" for g in model.optimizer.param_groups])\n"
        'history.history["val_accuracy"]'
    ),
]

for i, cell in enumerate(cells):
    cell.id = f"cell-{i:02d}"  # stable ids: regenerating changes only what was edited
nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
nbformat.write(nb, "notebooks/transfer_learning.ipynb")
