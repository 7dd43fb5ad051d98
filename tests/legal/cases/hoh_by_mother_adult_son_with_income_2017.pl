% Text
% Mona pays the whole cost of her mother Nell's apartment ($9000 in 2017); Nell has no income. Mona
% has never married; her son Otto, born April 4th, 1987, lives with her and earned $20000 in 2017.
% Mona was paid $55000 in 2017 and does not itemize.
% By hand: Nell is a qualifying relative (mother, no income; §152(d)), so Mona is a head of household
% (§2(b)(1)(B)); Otto (30, with income) is no dependent. $55,000 - $4,400 - two exemptions $4,000 =
% $46,600: §1(b)(ii), $4,440 + 28% of $17,000 = $9,200.

% Question
% How much tax does Mona have to pay in 2017? $9200

% Facts
:- [statutes/prolog/init].
mother_(nell_mother_of_mona).
agent_(nell_mother_of_mona,nell).
patient_(nell_mother_of_mona,mona).
start_(nell_mother_of_mona,"1980-02-02").
residence_(nell_lives).
agent_(nell_lives,nell).
patient_(nell_lives,nells_apartment).
start_(nell_lives,"2010-01-01").
residence_(mona_lives).
agent_(mona_lives,mona).
patient_(mona_lives,monas_house).
start_(mona_lives,"2005-01-01").
son_(otto_son_of_mona).
agent_(otto_son_of_mona,otto).
patient_(otto_son_of_mona,mona).
start_(otto_son_of_mona,"1987-04-04").
residence_(otto_lives).
agent_(otto_lives,otto).
patient_(otto_lives,monas_house).
start_(otto_lives,"2005-01-01").
payment_(otto_salary).
patient_(otto_salary,otto).
amount_(otto_salary,20000).
start_(otto_salary,"2017-12-31").
payment_(mona_pays_nells_rent).
agent_(mona_pays_nells_rent,mona).
patient_(mona_pays_nells_rent,nells_apartment).
amount_(mona_pays_nells_rent,9000).
start_(mona_pays_nells_rent,"2017-12-01").
payment_(mona_salary).
patient_(mona_salary,mona).
amount_(mona_salary,55000).
start_(mona_salary,"2017-12-31").

% Test
:- tax(mona,2017,9200).
:- halt.
