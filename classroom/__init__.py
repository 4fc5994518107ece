"""Class vs BERT: questions a presenter asks the class from a step of the lecture, answered from phones."""
