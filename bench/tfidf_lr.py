"""Same-run baseline for the classification benchmarks: TF-IDF + logistic regression (scikit-learn), the
model a practitioner would fit first. Word 1-2-grams (scikit-learn's default word pattern, which splits
punctuation), or character 1-3-grams for Chinese. Reads train/test TSV (text<TAB>label), prints one JSON line.

  python tfidf_lr.py TRAIN TEST word|char
"""
import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score


def read(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            text, label = line.rsplit("\t", 1)
            texts.append(text)
            labels.append(label)
    return texts, labels


def main():
    train_file, test_file, unit = sys.argv[1:4]
    x_train, y_train = read(train_file)
    x_test, y_test = read(test_file)
    t0 = time.time()
    if unit == "char":
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    else:
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(max_iter=2000)
    clf.fit(vec.fit_transform(x_train), y_train)
    predicted = clf.predict(vec.transform(x_test))
    print(json.dumps({
        "accuracy": accuracy_score(y_test, predicted),
        "macro_f1": f1_score(y_test, predicted, average="macro"),
        "seconds": time.time() - t0,
    }))


if __name__ == "__main__":
    main()
