% Text
% Ezra and Fay married on 2012-09-09. Fay had no income in 2017. Nothing says that either of
% them was ever a nonresident alien.
% By hand: Ezra's spouse is not a nonresident alien at any time in 2017: §2(b)(2)(B) does not
% apply.

% Question
% Section 2(b)(2)(B) applies to Ezra's marriage to Fay for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(ezra_fay).
agent_(ezra_fay,ezra).
agent_(ezra_fay,fay).
start_(ezra_fay,"2012-09-09").
payment_(ezra_salary).
patient_(ezra_salary,ezra).
amount_(ezra_salary,50000).
start_(ezra_salary,"2017-11-30").

% Test
:- \+ s2_b_2_B(ezra,ezra_fay,fay,2017).
:- halt.
