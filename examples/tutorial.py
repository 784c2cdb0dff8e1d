"""PyTorchVideo's tutorial "Training a PyTorchVideo classification model", running on fastvid.

The code is the tutorial's (https://pytorchvideo.org/docs/tutorial_classification): a Kinetics
LightningDataModule, make_kinetics_resnet() and a VideoClassificationLightningModule, trained with
``pytorch_lightning.Trainer().fit``. Two kinds of edits, each marked in a comment:

* CHANGED (import): ``pytorchvideo.*`` / ``torchvision.transforms`` -> ``fastvid.*``. Nothing else is
  needed to switch: same class names, arguments and dict samples.
* FIXED: the tutorial's faults, which fastvid's own trainer (``fastvid-train``) also avoids:
  1. Normalize((0.45, ...), (0.225, ...)) was applied to 0-255 pixel values: Div255() now comes first;
  2. RandomCrop(244) was a typo for 224 (the model's head pools a 7x7 map: 224 / 32);
  3. Adam at lr 0.1 diverges: SGD with momentum, weight decay and a cosine schedule;
  4. audio was decoded and thrown away: decode_audio=False;
  5. the dataset was an IterableDataset with no length (partial batches, epoch size wrong under several
     workers): map_style=True gives a dataset with a length, shuffled by the DataLoader;
  6. validation only logged a clip-level loss: it now scores each video from 10 clips x 3 crops
     (softmax averaged), the standard Kinetics protocol, and logs clip- and video-level accuracy.

Run it on your data:  python examples/tutorial.py /path/to/kinetics   (holding train.csv and val.csv)
As in the tutorial, the CSVs' video paths are opened as written: absolute, or relative to the directory you run it
from (a CSV of paths relative to its own folder, as fastvid-prepare writes: run it from that folder, or give the
datasets ``video_path_prefix=<that folder>``). The tutorial's settings are kept: 1000 epochs, ResNet-50 at 224,
8 workers, 10 x 3 validation views; on a CPU-only machine an epoch of even a small set takes minutes.
"""

import os
import sys

import pytorch_lightning
import torch
import torch.nn as nn  # FIXED: the tutorial's make_kinetics_resnet uses nn without importing it
import torch.nn.functional as F
import torch.utils.data

import fastvid.data  # CHANGED (import): was pytorchvideo.data
import fastvid.models.resnet  # CHANGED (import): was pytorchvideo.models.resnet
from fastvid.transforms import (  # CHANGED (import): was pytorchvideo.transforms
    ApplyTransformToKey,
    Div255,  # FIXED (1)
    RandomShortSideScale,
    RemoveKey,
    ShortSideScale,
    UniformCropVideo,  # FIXED (6)
    UniformTemporalSubsample,
)
from fastvid.transforms import (  # CHANGED (import): was torchvision.transforms
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
)


class KineticsDataModule(pytorch_lightning.LightningDataModule):

    # Dataset configuration
    _DATA_PATH = os.environ.get("KINETICS_DATA_PATH", "<path_to_kinetics_data_dir>")
    _CLIP_DURATION = 2  # Duration of sampled clip for each video
    _BATCH_SIZE = 8
    _NUM_WORKERS = 8  # Number of parallel processes fetching data
    _VAL_CLIPS_PER_VIDEO = 10  # FIXED (6): clips per validation video, each in 3 crops

    def train_dataloader(self):
        """
        Create the Kinetics train partition from the list of video labels
        in {self._DATA_PATH}/train.csv. Add transform that subsamples and
        normalizes the video before applying the scale, crop and flip augmentations.
        """
        train_transform = Compose(
            [
                ApplyTransformToKey(
                    key="video",
                    transform=Compose(
                        [
                            UniformTemporalSubsample(8),
                            Div255(),  # FIXED (1): pixels to [0, 1] before Normalize
                            Normalize((0.45, 0.45, 0.45), (0.225, 0.225, 0.225)),
                            RandomShortSideScale(min_size=256, max_size=320),
                            RandomCrop(224),  # FIXED (2): was RandomCrop(244)
                            RandomHorizontalFlip(p=0.5),
                        ]
                    ),
                ),
                RemoveKey("audio"),
            ]
        )
        train_dataset = fastvid.data.Kinetics(
            data_path=os.path.join(self._DATA_PATH, "train.csv"),
            clip_sampler=fastvid.data.make_clip_sampler("random", self._CLIP_DURATION),
            transform=train_transform,
            decode_audio=False,  # FIXED (4)
            map_style=True,  # FIXED (5): a dataset with a length
        )
        return torch.utils.data.DataLoader(
            train_dataset,
            batch_size=self._BATCH_SIZE,
            num_workers=self._NUM_WORKERS,
            shuffle=True,  # FIXED (5): the map-style dataset is shuffled by the loader
            drop_last=True,  # FIXED (5): full batches only
        )

    def val_dataloader(self):
        """
        Create the Kinetics validation partition from the list of video labels
        in {self._DATA_PATH}/val.csv
        """
        val_transform = Compose(
            [
                ApplyTransformToKey(
                    key="video",
                    transform=Compose(
                        [
                            UniformTemporalSubsample(8),
                            Div255(),  # FIXED (1)
                            Normalize((0.45, 0.45, 0.45), (0.225, 0.225, 0.225)),
                            ShortSideScale(256),
                        ]
                    ),
                ),
                UniformCropVideo(224),  # FIXED (6): left / centre / right crop by aug_index
                RemoveKey("audio"),
            ]
        )
        val_dataset = fastvid.data.Kinetics(
            data_path=os.path.join(self._DATA_PATH, "val.csv"),
            # FIXED (6): N clips spread over each video, each repeated for 3 crops (aug_index 0, 1, 2)
            clip_sampler=fastvid.data.make_clip_sampler(
                "constant_clips_per_video", self._CLIP_DURATION, self._VAL_CLIPS_PER_VIDEO, 3
            ),
            transform=val_transform,
            decode_audio=False,  # FIXED (4)
            map_style=True,  # FIXED (5)
        )
        return torch.utils.data.DataLoader(
            val_dataset,
            batch_size=self._BATCH_SIZE,
            num_workers=self._NUM_WORKERS,
        )


def make_kinetics_resnet():
    return fastvid.models.resnet.create_resnet(  # CHANGED (import): was pytorchvideo.models.resnet
        input_channel=3,  # RGB input from Kinetics
        model_depth=50,  # For the tutorial let's just use a 50 layer network
        model_num_class=400,  # Kinetics has 400 classes so we need out final head to align
        norm=nn.BatchNorm3d,
        activation=nn.ReLU,
    )


class VideoClassificationLightningModule(pytorch_lightning.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = make_kinetics_resnet()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        # The model expects a video tensor of shape (B, C, T, H, W), which is the
        # format provided by the dataset
        y_hat = self.model(batch["video"])

        # Compute cross entropy loss, loss.backwards will be called behind the scenes
        # by PyTorchLightning after being returned from this method.
        loss = F.cross_entropy(y_hat, batch["label"])

        # Log the train loss to Tensorboard
        self.log("train_loss", loss.item())

        return loss

    # FIXED (6): collect every view's softmax per video; score videos at the end of the epoch.
    # (Single process. fastvid.train.VideoClassificationModule does the same across DDP ranks.)
    def on_validation_epoch_start(self):
        self._video_scores, self._video_labels = {}, {}

    def validation_step(self, batch, batch_idx):
        y_hat = self.model(batch["video"])
        loss = F.cross_entropy(y_hat, batch["label"])
        self.log("val_loss", loss)
        self.log("val_clip_acc", (y_hat.argmax(dim=1) == batch["label"]).float().mean())  # FIXED (6)
        probs = y_hat.softmax(dim=1).detach().cpu()
        for p, vid, label in zip(probs, batch["video_index"].tolist(), batch["label"].tolist()):
            self._video_scores[vid] = self._video_scores.get(vid, 0) + p
            self._video_labels[vid] = label
        return loss

    def on_validation_epoch_end(self):
        if self._video_scores:
            correct = [int(s.argmax()) == self._video_labels[v] for v, s in self._video_scores.items()]
            self.log("val_video_acc", sum(correct) / len(correct))  # FIXED (6)

    def configure_optimizers(self):
        """
        FIXED (3): the tutorial used torch.optim.Adam(self.parameters(), lr=1e-1), which diverges.
        SGD with momentum and weight decay, and a cosine learning-rate schedule over the run.
        """
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else 1
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return [optimizer], [scheduler]


def train(**trainer_kwargs):
    classification_module = VideoClassificationLightningModule()
    data_module = KineticsDataModule()
    trainer = pytorch_lightning.Trainer(**trainer_kwargs)
    trainer.fit(classification_module, data_module)
    return trainer


if __name__ == "__main__":
    if len(sys.argv) > 1:
        KineticsDataModule._DATA_PATH = sys.argv[1]
    train()
