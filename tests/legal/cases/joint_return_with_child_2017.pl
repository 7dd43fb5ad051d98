% Text
% Hugo and Ines married on August 19th, 2006 and file a joint return for 2017. Their son Jules
% was born on March 3rd, 2011. The three of them have lived in their flat on Elm Street since
% 2009 (Jules since his birth). In 2017 Hugo was paid $88000 and Ines $12500. They take the
% standard deduction.
% By hand: gross income $100,500; standard deduction 200% of $3,000 = $6,000 (§63(c)(2)(A)(i));
% exemptions $2,000 each for Hugo, Ines (§151(b), a joint return) and Jules (§151(c), a
% qualifying child) = $6,000; taxable income $88,500; §1(a)(ii): $5,535 + 28% of $51,600 =
% $19,983.

% Question
% How much tax do Hugo and Ines have to pay in 2017? $19983

% Facts
:- [statutes/prolog/init].
marriage_(hugo_and_ines).
agent_(hugo_and_ines,hugo).
agent_(hugo_and_ines,ines).
start_(hugo_and_ines,"2006-08-19").
joint_return_(their_2017_return).
agent_(their_2017_return,hugo).
agent_(their_2017_return,ines).
start_(their_2017_return,"2017-01-01").
end_(their_2017_return,"2017-12-31").
son_(jules_is_their_son).
agent_(jules_is_their_son,jules).
patient_(jules_is_their_son,hugo).
patient_(jules_is_their_son,ines).
start_(jules_is_their_son,"2011-03-03").
residence_(parents_at_elm_street).
agent_(parents_at_elm_street,hugo).
agent_(parents_at_elm_street,ines).
patient_(parents_at_elm_street,elm_street_flat).
start_(parents_at_elm_street,"2009-01-01").
residence_(jules_at_elm_street).
agent_(jules_at_elm_street,jules).
patient_(jules_at_elm_street,elm_street_flat).
start_(jules_at_elm_street,"2011-03-03").
payment_(hugo_salary).
patient_(hugo_salary,hugo).
amount_(hugo_salary,88000).
start_(hugo_salary,"2017-12-31").
payment_(ines_salary).
patient_(ines_salary,ines).
amount_(ines_salary,12500).
start_(ines_salary,"2017-12-31").

% Test
:- tax(hugo,2017,19983).
:- halt.
