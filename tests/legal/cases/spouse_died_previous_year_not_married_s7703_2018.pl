% Text
% Pete's wife Quinn died on May 5th, 2017, after nearly eighteen years of marriage.
% By hand: at the close of 2018 Pete has no spouse (§7703(a)(1)): not married.

% Question
% Pete is married under section 7703 for the year 2018. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(pete_quinn).
agent_(pete_quinn,pete).
patient_(pete_quinn,quinn).
start_(pete_quinn,"1999-09-19").
death_(quinn_dies).
agent_(quinn_dies,quinn).
start_(quinn_dies,"2017-05-05").

% Test
:- \+ s7703(pete,quinn,_,_,_,_,_,_,2018).
:- halt.
